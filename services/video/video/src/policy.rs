//! Video's event policies: the replica of the channels follows channel events in channel
//! version order (a deletion deletes the channel's videos, each raising VideoDeleted), and
//! policy's takedown orders leave a video REMOVED_BY_POLICY, once.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Raise, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::store;
use crate::write::{self, event_of};

pub struct Follow;

async fn changed(
    tx: &mut Tx,
    channel_id: &str,
    client_id: &str,
    version: i64,
) -> Result<(), HandlerError> {
    let mut replica = store::lock_channel(tx, channel_id).await?;
    if replica.change(client_id, version) {
        store::save_channel(tx, &replica).await?;
    }
    Ok(())
}

mediamesh_mesh::on_events! { Follow:
    pb::ChannelCreated |tx, e, v| changed(tx, &e.channel_id, &e.client_id, v);
    pb::ChannelRenamed |tx, e, v| changed(tx, &e.channel_id, &e.client_id, v);
}

#[async_trait::async_trait]
impl On<pb::ChannelDeleted> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ChannelDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let mut replica = store::lock_channel(tx, &e.channel_id).await?;
        if !replica.delete(&e.client_id, d.aggregate_version()) {
            return Ok(());
        }
        store::save_channel(tx, &replica).await?;
        // The replica row is locked first, so no upload into the channel lands after this.
        for mut video in store::lock_in_channel(tx, &e.channel_id).await? {
            write::delete_locked(tx, &mut video).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::VideoTakedownOrdered> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoTakedownOrdered,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // A video deleted (or never uploaded) has nothing left to take down.
        let Some(mut video) = store::lock(tx, &e.video_id).await? else {
            tracing::info!(video_id = %e.video_id, "takedown of a video that is not live: nothing to do");
            return Ok(());
        };
        let Some(removed) = video.take_down() else {
            return Ok(());
        };
        store::save(tx, &video, false).await?;
        let event = pb::VideoRemovedByPolicy {
            video_id: removed.video_id.clone(),
            client_id: removed.client_id.clone(),
            channel_id: removed.channel_id.clone(),
            reason: e.reason,
        };
        tx.raise(event_of(&event, &removed)).await?;
        Ok(())
    }
}
