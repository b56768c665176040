//! Video platform, channel context: clients open, rename and delete channels. Only live
//! clients open channels: channel keeps a replica of the clients (fed by client events) and
//! asks client (`GetClient`) about one it has not heard of, so a client registered a moment
//! ago is never a false 404; a deleted client takes its channels (and so their videos). A channel's
//! totals (the views and the count of its live videos) follow video events only: channel
//! keeps one row per video at its latest version, so redelivered, duplicated or reordered
//! events never count twice, and raises ChannelTotalChanged when they move. Ids of deleted
//! channels are retired.
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod replica;
mod store;
mod write;

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
    calls: &[("video.client", "GetClient")],
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
        let client = env.peer("video.client")?;
        routes.add_service(ChannelServiceServer::new(grpc::ChannelApi::new(
            env.store, client,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The replica of the clients (a deletion takes their channels), and the channels' totals
/// following the videos.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Count)
        .on::<pb::ClientRegistered>()
        .on::<pb::ClientDeleted>()
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoEdited>()
        .on::<pb::VideoViewed>()
        .on::<pb::VideoDeleted>()
        .on::<pb::VideoRemovedByPolicy>()
        .into_handler()
}
