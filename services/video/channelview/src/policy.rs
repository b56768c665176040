//! The projection: client, channel, video and refund events into the client's screen. Each
//! handler hands the domain a row (a placeholder if not seen yet) and stores what it decides.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{RefundStatus, VideoContent};
use crate::store::{self, Refund};

pub struct Project;

#[async_trait::async_trait]
impl On<pb::ClientRegistered> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ClientRegistered,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(store::client_seen(tx, &e.client_id).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::ClientDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ClientDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(store::client_deleted(tx, &e.client_id).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::ClientTotalChanged> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ClientTotalChanged,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(store::client_total(tx, &e.client_id, e.total_view, d.aggregate_version()).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::ChannelCreated> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ChannelCreated,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        let name = e.channel_name.as_str();
        Ok(
            store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(name, version))
                .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::ChannelRenamed> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ChannelRenamed,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        let name = e.channel_name.as_str();
        Ok(
            store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(name, version))
                .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::ChannelTotalChanged> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ChannelTotalChanged,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        Ok(
            store::change_channel(tx, &e.channel_id, &e.client_id, |ch| {
                ch.totals(e.total_view, e.video_count, version)
            })
            .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::ChannelDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ChannelDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.delete()).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::VideoUploaded> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoUploaded,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let content = VideoContent {
            client_id: &e.client_id,
            channel_id: &e.channel_id,
            title: &e.title,
            view_count: e.view_count,
        };
        let version = d.aggregate_version();
        Ok(
            store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| {
                v.content(&content, version)
            })
            .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::VideoEdited> for Project {
    async fn on(&self, tx: &mut Tx, e: pb::VideoEdited, d: &Delivered) -> Result<(), HandlerError> {
        let content = VideoContent {
            client_id: &e.client_id,
            channel_id: &e.channel_id,
            title: &e.title,
            view_count: e.view_count,
        };
        let version = d.aggregate_version();
        Ok(
            store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| {
                v.content(&content, version)
            })
            .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::VideoDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(
            store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.delete())
                .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::VideoRemovedByPolicy> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoRemovedByPolicy,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        Ok(
            store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.remove())
                .await?,
        )
    }
}

#[async_trait::async_trait]
impl On<pb::RefundRequested> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::RefundRequested,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let refund = Refund {
            refund_request_id: &e.refund_request_id,
            client_id: &e.client_id,
            status: "REQUESTED",
            stage: RefundStatus::Requested,
            total_view: e.total_view,
            refund_policy: 0,
        };
        Ok(store::set_refund(tx, &refund).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::RefundDecided> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::RefundDecided,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let refund = Refund {
            refund_request_id: &e.refund_request_id,
            client_id: &e.client_id,
            status: &e.status,
            stage: RefundStatus::Decided,
            total_view: e.total_view,
            refund_policy: e.refund_policy,
        };
        Ok(store::set_refund(tx, &refund).await?)
    }
}
