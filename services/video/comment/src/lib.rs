//! Video platform, comment context, added the way the seed's "new team" is: its own crate,
//! its own tables and its own replica of the videos (fed by versioned video events); no
//! other context changed. Comments only on videos that exist (a replica miss asks video
//! `GetVideo`, never a false 404); a deleted or taken-down video loses its comments.
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;
mod write;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::comment_service_server::CommentServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "comment",
    role: "supporting",
    services: &[(
        "mediamesh.video.v1.CommentService",
        &[
            "CreateComment",
            "GetComment",
            "ListComments",
            "UpdateComment",
            "DeleteComment",
        ],
    )],
    calls: &[("video.video", "GetVideo")],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Comment;

#[async_trait::async_trait]
impl Context for Comment {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let video = env.peer("video.video")?;
        routes.add_service(CommentServiceServer::new(grpc::CommentApi::new(
            env.store, video,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The replica of the videos follows video events.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Replicate)
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoDeleted>()
        .on::<pb::VideoRemovedByPolicy>()
        .into_handler()
}
