//! Movie reservation, payment context: pays a reservation synchronously (idempotent by
//! reservation id) and cancels the payment when the reservation is cancelled or abandoned.
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
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::payment_service_server::PaymentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "payment",
    role: "general",
    services: &[("mediamesh.cinema.v1.PaymentService", &["Pay", "GetPayment"])],
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

/// A cancelled or abandoned reservation cancels its payment.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::CancelPayment)
        .on::<pb::ReservationCancelRequested>()
        .on::<pb::ReservationFailed>()
        .into_handler()
}
