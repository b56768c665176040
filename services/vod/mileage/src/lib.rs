//! VOD store, mileage context (supporting): 1000 points per paid purchase; at 5000 points,
//! 5000 are deducted and a free-VOD credit is issued. Cancelled payments take their points
//! back (saga compensation).
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::mileage_service_server::MileageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "mileage",
    role: "supporting",
    services: &[("mediamesh.vod.v1.MileageService", &["GetMileage"])],
    calls: &[],
    publishes: &[
        "MileageCredited",
        "MileageReversed",
        "FreeVodCreditIssued",
        "FreeVodCreditRevoked",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Mileage;

#[async_trait::async_trait]
impl Context for Mileage {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(MileageServiceServer::new(grpc::MileageApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Approved payments earn points (or spend a credit); cancelled ones take them back.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Accrue)
        .on::<pb::PaymentApproved>()
        .on::<pb::PaymentCancelled>()
        .into_handler()
}
