//! Movie reservation, viewpage context (CQRS): one screen with every movie, its
//! reservations' states and its review count, built only from events into its own tables
//! and rebuildable by replaying the stream (`mediamesh views rebuild`).
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
use mediamesh_proto::cinema::v1::viewpage_service_server::ViewpageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "viewpage",
    role: "supporting",
    services: &[("mediamesh.cinema.v1.ViewpageService", &["ListViewpages"])],
    calls: &[],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: &["vp_movies", "vp_reservations", "mesh_tally"],
};

pub struct Viewpage;

#[async_trait::async_trait]
impl Context for Viewpage {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(ViewpageServiceServer::new(grpc::ViewpageApi::new(
            env.store,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The projection: movie, reservation and review events.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Project)
        .on::<pb::MovieRegistered>()
        .on::<pb::MovieUpdated>()
        .on::<pb::MovieDeleted>()
        .on::<pb::ReservationConfirmed>()
        .on::<pb::ReservationCancelRequested>()
        .on::<pb::ReservationCancelled>()
        .on::<pb::ReviewCreated>()
        .on::<pb::ReviewDeleted>()
        .into_handler()
}
