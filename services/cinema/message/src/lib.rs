//! Movie reservation, message context: one message per confirmed and per cancelled
//! reservation (the seed's reservation notice), recorded and listable.
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
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::message_service_server::MessageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "message",
    role: "supporting",
    services: &[("mediamesh.cinema.v1.MessageService", &["ListMessages"])],
    calls: &[],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Message;

#[async_trait::async_trait]
impl Context for Message {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(MessageServiceServer::new(grpc::MessageApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// A notice per confirmed and per cancelled reservation.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Notify)
        .on::<pb::ReservationConfirmed>()
        .on::<pb::ReservationCancelled>()
        .into_handler()
}
