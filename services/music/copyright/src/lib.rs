//! MusiCloud, copyright context: approves a content's copyright synchronously (links covers
//! to their originals) and releases it when the content is deleted or abandoned.
mod domain;
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
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
    consumes: &[
        "music.content.ContentDeleted",
        "music.content.ContentUploadFailed",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Copyright;

#[async_trait::async_trait]
impl Context for Copyright {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(CopyrightServiceServer::new(grpc::CopyrightApi::new(
            env.store,
        )));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Release)],
        })
    }
}
