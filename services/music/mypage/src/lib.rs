//! MusiCloud, mypage context (CQRS): the creator's view of every content's progress and of
//! the covers of their works, built from events only and rebuildable by replay.
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
use mediamesh_proto::music::v1 as pb;
use mediamesh_proto::music::v1::mypage_service_server::MypageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "mypage",
    role: "supporting",
    services: &[("mediamesh.music.v1.MypageService", &["ListMypages"])],
    calls: &[],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: &["mypages", "mypage_covers"],
};

pub struct Mypage;

#[async_trait::async_trait]
impl Context for Mypage {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(MypageServiceServer::new(grpc::MypageApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Every step of a content's progress, from whichever context raised it.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Project)
        .on::<pb::CopyrightApproved>()
        .on::<pb::SourceRegistered>()
        .on::<pb::ContentDeleted>()
        .on::<pb::CopyrightReleased>()
        .into_handler()
}
