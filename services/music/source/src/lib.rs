//! MusiCloud, source context: registers the sound source of every approved copyright
//! (asynchronously: content never waits for it) and releases it with its copyright.
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::music::v1::source_service_server::SourceServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "source",
    role: "core",
    services: &[("mediamesh.music.v1.SourceService", &["ListSources"])],
    calls: &[],
    publishes: &["SourceRegistered"],
    consumes: &[
        "music.copyright.CopyrightApproved",
        "music.copyright.CopyrightReleased",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Source;

#[async_trait::async_trait]
impl Context for Source {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(SourceServiceServer::new(grpc::SourceApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Register)],
        })
    }
}
