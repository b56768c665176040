//! VOD store, mileage context (supporting): 1000 points per paid purchase; at 5000 points,
//! 5000 are deducted and a free-VOD credit is issued. Cancelled payments take their points
//! back (saga compensation).
mod domain;
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::vod::v1::mileage_service_server::MileageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "mileage",
    role: "supporting",
    services: &[("mediamesh.vod.v1.MileageService", &["GetMileage"])],
    calls: &[],
    publishes: &["MileageCredited", "MileageReversed", "FreeVodCreditIssued"],
    consumes: &[
        "vod.payment.PaymentApproved",
        "vod.payment.PaymentCancelled",
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

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(MileageServiceServer::new(grpc::MileageApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Accrue)],
        })
    }
}
