//! MusiCloud, copyright context: approves a content's copyright synchronously (links covers
//! to their originals) and releases it when the content is deleted or abandoned.
mod approve;
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
use mediamesh_proto::music::v1::copyright_service_server::CopyrightServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "copyright",
    role: "supporting",
    services: &[(
        "mediamesh.music.v1.CopyrightService",
        &["ApproveCopyright", "ListCopyrights"],
    )],
    calls: &[],
    publishes: &["CopyrightApproved", "CopyrightReleased"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Copyright;

#[async_trait::async_trait]
impl Context for Copyright {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(CopyrightServiceServer::new(grpc::CopyrightApi::new(
            env.store,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// A deleted content or an abandoned upload releases its copyright.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Release)
        .on::<pb::ContentDeleted>()
        .on::<pb::ContentUploadFailed>()
        .into_handler()
}
