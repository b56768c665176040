//! MusiCloud, content context: creators upload contents; copyright approves each one
//! synchronously (through the breaker) or it is never registered; the sound source is
//! registered asynchronously and the status follows: Uploaded -> Approved -> Registered.
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;
mod upload;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::calls::saga::sweep;
use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::music::v1 as pb;
use mediamesh_proto::music::v1::content_service_server::ContentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "music",
    name: "content",
    role: "core",
    services: &[(
        "mediamesh.music.v1.ContentService",
        &[
            "CreateContent",
            "GetContent",
            "ListContents",
            "DeleteContent",
        ],
    )],
    calls: &[("music.copyright", "ApproveCopyright")],
    publishes: &["ContentUploadFailed", "ContentDeleted"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Content;

#[async_trait::async_trait]
impl Context for Content {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let upload = upload::Upload::new(env.store.clone(), env.peer("music.copyright")?);
        let saga = upload.clone();
        env.tasks.spawn("music.content recovery", move |stop| {
            let saga = saga.clone();
            async move { sweep(upload::CONTEXT, &saga, stop).await }
        });
        routes.add_service(ContentServiceServer::new(grpc::ContentApi::new(
            env.store, upload,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The content's status follows its source's registration and its copyright's release.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Follow)
        .on::<pb::SourceRegistered>()
        .on::<pb::CopyrightReleased>()
        .into_handler()
}
