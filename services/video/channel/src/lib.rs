//! Video platform, channel context: clients open, rename and delete channels. A channel's
//! totals (the views and the count of its live videos) follow video events only: channel
//! keeps one row per video at its latest version, so redelivered, duplicated or reordered
//! events never count twice, and raises ChannelTotalChanged when they move. Ids of deleted
//! channels are retired.
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
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::channel_service_server::ChannelServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "channel",
    role: "core",
    services: &[(
        "mediamesh.video.v1.ChannelService",
        &[
            "ListChannels",
            "GetChannel",
            "CreateChannel",
            "UpdateChannel",
            "DeleteChannel",
        ],
    )],
    calls: &[],
    publishes: &[
        "ChannelCreated",
        "ChannelRenamed",
        "ChannelDeleted",
        "ChannelTotalChanged",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Channel;

#[async_trait::async_trait]
impl Context for Channel {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(ChannelServiceServer::new(grpc::ChannelApi::new(env.store)));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The channels' totals follow the videos.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Count)
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoEdited>()
        .on::<pb::VideoViewed>()
        .on::<pb::VideoDeleted>()
        .on::<pb::VideoRemovedByPolicy>()
        .into_handler()
}
