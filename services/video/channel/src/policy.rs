//! Channel's event policies: the replica of the clients follows client events (a deleted
//! client deletes its channels, each raising ChannelDeleted, which deletes their videos); each
//! video event sets that video, a part of its channel, to the
//! video's state at that version (stale and repeated versions change nothing), then the
//! channels it left or entered are recounted; a moved total raises ChannelTotalChanged.
use mediamesh_mesh::events::parts;
use mediamesh_mesh::{Event, HandlerError, Raise, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::Totals;
use crate::{store, write};

/// The videos, each a part of its channel's totals.
const VIDEOS: &str = "videos";

pub struct Count;

/// The video as of `version`, in `channel_id` with `views` (None: gone); the channels it left
/// or entered are recounted.
async fn video_is(
    tx: &mut Tx,
    video_id: &str,
    version: i64,
    channel_id: &str,
    views: Option<i64>,
) -> Result<(), HandlerError> {
    for channel_id in parts::set(tx, VIDEOS, video_id, version, channel_id, views).await? {
        recount(tx, &channel_id).await?;
    }
    Ok(())
}

/// Recounts a live channel from its videos' rows; a deleted channel is counted no more.
async fn recount(tx: &mut Tx, channel_id: &str) -> Result<(), HandlerError> {
    let Some(mut channel) = store::lock(tx, channel_id).await? else {
        return Ok(());
    };
    let (total_view, video_count) = parts::sum(tx, VIDEOS, channel_id).await?;
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
    Event::new(
        write::CONTEXT,
        &event,
        &t.channel_id,
        t.version,
        &t.channel_id,
    )
}

mediamesh_mesh::on_events! { Count:
    pb::VideoUploaded |tx, e, v| video_is(tx, &e.video_id, v, &e.channel_id, Some(e.view_count));
    pb::VideoEdited |tx, e, v| video_is(tx, &e.video_id, v, &e.channel_id, Some(e.view_count));
    pb::VideoViewed |tx, e, v| video_is(tx, &e.video_id, v, &e.channel_id, Some(e.view_count));
    pb::VideoDeleted |tx, e, v| video_is(tx, &e.video_id, v, &e.channel_id, None);
    pb::VideoRemovedByPolicy |tx, e, v| video_is(tx, &e.video_id, v, &e.channel_id, None);
}

/// A client registered: channels may be opened for it.
async fn client_registered(tx: &mut Tx, client_id: &str) -> Result<(), HandlerError> {
    let mut replica = store::lock_client(tx, client_id).await?;
    if replica.register() {
        store::save_client(tx, &replica).await?;
    }
    Ok(())
}

/// A client deleted: for good, with its channels. The replica row is locked first, so no
/// channel is opened for it after this.
async fn client_deleted(tx: &mut Tx, client_id: &str) -> Result<(), HandlerError> {
    let mut replica = store::lock_client(tx, client_id).await?;
    if !replica.delete() {
        return Ok(());
    }
    store::save_client(tx, &replica).await?;
    for mut channel in store::lock_of_client(tx, client_id).await? {
        write::delete_locked(tx, &mut channel).await?;
    }
    Ok(())
}

mediamesh_mesh::on_events! { Count:
    pb::ClientRegistered |tx, e, _v| client_registered(tx, &e.client_id);
    pb::ClientDeleted |tx, e, _v| client_deleted(tx, &e.client_id);
}
