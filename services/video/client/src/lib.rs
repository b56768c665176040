//! Video platform, client context: clients (channel owners) register; a client's total views
//! is the sum of its channels' totals, learned from channel events only (one row per channel
//! at its latest version, so redelivered or reordered events never count twice), raising
//! ClientTotalChanged when it moves. Refund requests are recorded REQUESTED and raise
//! RefundRequested; policy's RefundDecided settles them (APPROVED or REJECTED), once.
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
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::client_service_server::ClientServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "client",
    role: "core",
    services: &[(
        "mediamesh.video.v1.ClientService",
        &[
            "ListClients",
            "GetClient",
            "CreateClient",
            "UpdateClient",
            "DeleteClient",
            "CreateRefundRequest",
            "GetRefundRequest",
            "ListRefundRequests",
        ],
    )],
    calls: &[],
    publishes: &[
        "ClientRegistered",
        "ClientTotalChanged",
        "ClientDeleted",
        "RefundRequested",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Client;

#[async_trait::async_trait]
impl Context for Client {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(ClientServiceServer::new(grpc::ClientApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Totals follow the channels; refund requests follow policy's decisions.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Follow)
        .on::<pb::ChannelTotalChanged>()
        .on::<pb::ChannelDeleted>()
        .on::<pb::RefundDecided>()
        .into_handler()
}
