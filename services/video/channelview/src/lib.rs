//! Video platform, channel view (CQRS): a client's screen (its channels with their totals,
//! its videos with status and counts, its refunds), built only from events into its own
//! tables and rebuildable by replaying the stream (`mediamesh views rebuild --target
//! video.channelview`).
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
use mediamesh_proto::video::v1::channel_view_service_server::ChannelViewServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "video",
    name: "channelview",
    role: "supporting",
    services: &[("mediamesh.video.v1.ChannelViewService", &["GetChannelView"])],
    calls: &[],
    publishes: &[],
    migrations: store::MIGRATIONS,
    views: store::VIEWS,
};

pub struct ChannelView;

#[async_trait::async_trait]
impl Context for ChannelView {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        routes.add_service(ChannelViewServiceServer::new(grpc::ChannelViewApi::new(
            env.store,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The projection: client, channel, video and refund events.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Project)
        .on::<pb::ClientRegistered>()
        .on::<pb::ClientTotalChanged>()
        .on::<pb::ClientDeleted>()
        .on::<pb::ChannelCreated>()
        .on::<pb::ChannelRenamed>()
        .on::<pb::ChannelTotalChanged>()
        .on::<pb::ChannelDeleted>()
        .on::<pb::VideoUploaded>()
        .on::<pb::VideoEdited>()
        .on::<pb::VideoViewed>()
        .on::<pb::VideoDeleted>()
        .on::<pb::VideoRemovedByPolicy>()
        .on::<pb::RefundRequested>()
        .on::<pb::RefundDecided>()
        .into_handler()
}
