//! VOD store, payment context (general): approves a purchase's payment synchronously and
//! cancels it when the purchase is cancelled or abandoned (saga compensation).
mod access;
mod domain;
mod error;
mod grpc;
mod pay;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::payment_service_server::PaymentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "payment",
    role: "general",
    services: &[("mediamesh.vod.v1.PaymentService", &["Pay", "GetPayment"])],
    calls: &[],
    publishes: &["PaymentApproved", "PaymentCancelled"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Payment;

#[async_trait::async_trait]
impl Context for Payment {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(PaymentServiceServer::new(grpc::PaymentApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// A cancelled or abandoned purchase cancels its payment.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::CancelPayment)
        .on::<pb::PurchaseCancelled>()
        .on::<pb::PurchaseFailed>()
        .into_handler()
}
