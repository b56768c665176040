//! Movie reservation, payment context: pays a reservation synchronously (idempotent by
//! reservation id) and cancels the payment when the reservation is cancelled or abandoned.
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::cinema::v1::payment_service_server::PaymentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "payment",
    role: "general",
    services: &[("mediamesh.cinema.v1.PaymentService", &["Pay", "GetPayment"])],
    calls: &[],
    publishes: &["PaymentApproved", "PaymentCancelled"],
    consumes: &[
        "cinema.reservation.ReservationCancelRequested",
        "cinema.reservation.ReservationFailed",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Payment;

#[async_trait::async_trait]
impl Context for Payment {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(PaymentServiceServer::new(grpc::PaymentApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::CancelPayment)],
        })
    }
}
