//! Movie reservation, message context: one message per confirmed and per cancelled
//! reservation (the seed's reservation notice), recorded and listable.
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::cinema::v1::message_service_server::MessageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "message",
    role: "supporting",
    services: &[("mediamesh.cinema.v1.MessageService", &["ListMessages"])],
    calls: &[],
    publishes: &[],
    consumes: &[
        "cinema.reservation.ReservationConfirmed",
        "cinema.reservation.ReservationCancelled",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Message;

#[async_trait::async_trait]
impl Context for Message {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(MessageServiceServer::new(grpc::MessageApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Notify)],
        })
    }
}
