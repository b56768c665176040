//! MusiCloud, source context: registers the sound source of every approved copyright
//! (asynchronously: content never waits for it) and releases it with its copyright.
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
use mediamesh_proto::music::v1 as pb;
use mediamesh_proto::music::v1::source_service_server::SourceServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "source",
    role: "core",
    services: &[("mediamesh.music.v1.SourceService", &["ListSources"])],
    calls: &[],
    publishes: &["SourceRegistered"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Source;

#[async_trait::async_trait]
impl Context for Source {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(SourceServiceServer::new(grpc::SourceApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// An approved copyright registers the source; a released one releases it.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Register)
        .on::<pb::CopyrightApproved>()
        .on::<pb::CopyrightReleased>()
        .into_handler()
}
