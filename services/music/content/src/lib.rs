//! MusiCloud, content context: creators upload contents; copyright approves each one
//! synchronously (through the breaker) or it is never registered; the sound source is
//! registered asynchronously and the status follows: Uploaded -> Approved -> Registered.
mod domain;
mod grpc;
mod policy;
mod store;
mod upload;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
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
    consumes: &[
        "music.source.SourceRegistered",
        "music.copyright.CopyrightReleased",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Content;

#[async_trait::async_trait]
impl Context for Content {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        let upload = upload::Upload::new(env.store.clone(), env.peer("music.copyright")?);
        tokio::spawn(mediamesh_mesh::calls::recovery::sweep(
            "music.content",
            upload.clone(),
        ));
        routes.add_service(ContentServiceServer::new(grpc::ContentApi::new(
            env.store, upload,
        )));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Follow)],
        })
    }
}
