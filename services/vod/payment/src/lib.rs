//! VOD store, payment context (general): approves a purchase's payment synchronously and
//! cancels it when the purchase is cancelled or abandoned (saga compensation).
mod domain;
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::vod::v1::payment_service_server::PaymentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "vod",
    name: "payment",
    role: "general",
    services: &[("mediamesh.vod.v1.PaymentService", &["Pay", "GetPayment"])],
    calls: &[],
    publishes: &["PaymentApproved", "PaymentCancelled"],
    consumes: &[
        "vod.purchase.PurchaseCancelled",
        "vod.purchase.PurchaseFailed",
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
