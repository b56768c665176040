//! Video platform, video context: clients upload videos into their channels, edit them
//! (title, channel, the absolute view count), view them and delete them. Only live channels
//! take uploads: video keeps a replica of the channels (fed by versioned channel events) and
//! asks channel (`GetChannel`) about one it has not heard of, so a channel created a moment
//! ago is never a false 404. A deleted channel takes its videos with it; policy's takedown
//! orders leave a video REMOVED_BY_POLICY. Video never calls client, so client being down
//! never stops an upload.
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
use mediamesh_proto::video::v1::video_service_server::VideoServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "video",
    role: "core",
    services: &[(
        "mediamesh.video.v1.VideoService",
        &[
            "ListVideos",
            "GetVideo",
            "CreateVideo",
            "UpdateVideo",
            "DeleteVideo",
            "ViewVideo",
        ],
    )],
    calls: &[("video.channel", "GetChannel")],
    publishes: &[
        "VideoUploaded",
        "VideoEdited",
        "VideoViewed",
        "VideoDeleted",
        "VideoRemovedByPolicy",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Video;

#[async_trait::async_trait]
impl Context for Video {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let channel = env.peer("video.channel")?;
        routes.add_service(VideoServiceServer::new(grpc::VideoApi::new(
            env.store, channel,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The replica of the channels (a deletion takes their videos), and policy's takedowns.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Follow)
        .on::<pb::ChannelCreated>()
        .on::<pb::ChannelRenamed>()
        .on::<pb::ChannelDeleted>()
        .on::<pb::VideoTakedownOrdered>()
        .into_handler()
}
