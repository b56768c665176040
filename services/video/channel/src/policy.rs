//! Channel's event policy: each video event sets channel's row of that video to the video's
//! state at that version (stale and repeated versions change nothing), then the channels it
//! left or entered are recounted; a moved total raises ChannelTotalChanged.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::Totals;
use crate::store;

const CONTEXT: &str = "video.channel";

pub struct Count;

async fn video_is(
    tx: &mut Tx,
    video_id: &str,
    version: i64,
    channel_id: &str,
    view_count: i64,
    live: bool,
) -> Result<(), HandlerError> {
    let mut video = store::lock_video(tx, video_id).await?;
    let Some(touched) = video.apply(version, channel_id, view_count, live) else {
        return Ok(());
    };
    store::save_video(tx, &video).await?;
    for channel_id in touched {
        recount(tx, &channel_id).await?;
    }
    Ok(())
}

/// Recounts a live channel from its videos' rows; a deleted channel is counted no more.
async fn recount(tx: &mut Tx, channel_id: &str) -> Result<(), HandlerError> {
    let Some(mut channel) = store::lock(tx, channel_id).await? else {
        return Ok(());
    };
    let (total_view, video_count) = store::sum_videos(tx, channel_id).await?;
    if let Some(totals) = channel.recount(total_view, video_count) {
        store::save(tx, &channel, false).await?;
        tx.raise(total_changed(&totals)).await?;
    }
    Ok(())
}

pub fn total_changed(t: &Totals) -> Event {
    let event = pb::ChannelTotalChanged {
        channel_id: t.channel_id.clone(),
        client_id: t.client_id.clone(),
        total_view: t.total_view,
        // A channel of more than i32::MAX videos is not a thing the product holds.
        video_count: i32::try_from(t.video_count).unwrap_or(i32::MAX),
    };
    Event::new(CONTEXT, &event, &t.channel_id, t.version, &t.channel_id)
}

#[async_trait::async_trait]
impl On<pb::VideoUploaded> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoUploaded,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        video_is(
            tx,
            &e.video_id,
            d.aggregate_version(),
            &e.channel_id,
            e.view_count,
            true,
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoEdited> for Count {
    async fn on(&self, tx: &mut Tx, e: pb::VideoEdited, d: &Delivered) -> Result<(), HandlerError> {
        video_is(
            tx,
            &e.video_id,
            d.aggregate_version(),
            &e.channel_id,
            e.view_count,
            true,
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoDeleted> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        video_is(
            tx,
            &e.video_id,
            d.aggregate_version(),
            &e.channel_id,
            0,
            false,
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoRemovedByPolicy> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoRemovedByPolicy,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        video_is(
            tx,
            &e.video_id,
            d.aggregate_version(),
            &e.channel_id,
            0,
            false,
        )
        .await
    }
}
