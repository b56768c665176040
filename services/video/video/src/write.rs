//! Uploading, editing, viewing and deleting videos. The channel is checked against the
//! replica, or asked of channel on a miss (the replica learns the answer); the check is made
//! again on the locked replica row in the transaction that writes the video, so an upload
//! racing its channel's deletion either lands before it (and is deleted with it) or is
//! refused. A video and the event it raises commit together.
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store, Tx};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::channel_service_client::ChannelServiceClient;

use crate::domain::{Changed, ChannelCheck, LiveChannel, ReplicaChannel, Video, VideoError, Views};
use crate::error::Error;
use crate::store;

pub const CONTEXT: &str = "video.video";

/// A video as asked for (fields checked at the edge).
#[derive(Clone)]
pub struct Upload {
    pub video_id: String,
    pub client_id: String,
    pub channel_id: String,
    pub title: String,
    pub views: Views,
}

/// An edit as asked for (fields checked at the edge).
pub struct Edit {
    pub video_id: String,
    pub title: Option<String>,
    pub channel_id: Option<String>,
    pub views: Option<Views>,
}

/// What an upload's transaction came to.
enum Uploaded {
    New(Video),
    /// The id was taken: answered from what holds it.
    Taken(Video),
    Refused(VideoError),
}

pub async fn upload(store: &Store, channel: &Peer, new: Upload) -> Result<Video, Error> {
    let asked = resolve(store, channel, &new.channel_id).await?;
    // Uploads that arrive together share one transaction (group commit).
    let uploaded = store
        .write(move |tx| {
            let (new, asked) = (new.clone(), asked.clone());
            Box::pin(async move {
                let live = match live_channel(tx, &new.channel_id, asked.as_ref()).await? {
                    Ok(live) => live,
                    Err(rule) => return Ok(Uploaded::Refused(rule)),
                };
                let upload =
                    Video::upload(new.video_id, &new.client_id, &live, new.title, new.views);
                let (video, uploaded) = match upload {
                    Ok(upload) => upload,
                    Err(rule) => return Ok(Uploaded::Refused(rule)),
                };
                if !store::insert(tx, &video).await? {
                    return Ok(Uploaded::Taken(video));
                }
                let event = pb::VideoUploaded {
                    video_id: uploaded.video_id.clone(),
                    client_id: uploaded.client_id.clone(),
                    channel_id: uploaded.channel_id.clone(),
                    title: uploaded.title.clone(),
                    view_count: uploaded.view_count,
                    upload_time: mediamesh_mesh::observe::telemetry::now_rfc3339(),
                };
                tx.raise(event_of(&event, &uploaded)).await?;
                Ok(Uploaded::New(video))
            })
        })
        .await?;
    match uploaded {
        Uploaded::New(video) => Ok(video),
        Uploaded::Taken(video) => replay(store, &video).await,
        Uploaded::Refused(rule) => Err(rule.into()),
    }
}

/// An upload under a taken id (AIP-155): the same request again is answered the video as it
/// is now; another request under that id, or any under a deleted video's, is refused.
async fn replay(store: &Store, asked: &Video) -> Result<Video, Error> {
    let id = asked.id().to_owned();
    match store::get(store, &id).await? {
        Some(existing) if existing.same_request(asked) => Ok(existing),
        _ => Err(Error::Exists(id)),
    }
}

pub async fn edit(store: &Store, channel: &Peer, edit: Edit) -> Result<Video, Error> {
    let asked = match &edit.channel_id {
        Some(channel_id) => resolve(store, channel, channel_id).await?,
        None => None,
    };
    let mut tx = store.begin().await?;
    let mut video = store::lock(&mut tx, &edit.video_id)
        .await?
        .ok_or_else(|| Error::NotFound(edit.video_id.clone()))?;
    let target = match &edit.channel_id {
        Some(channel_id) => Some(live_channel(&mut tx, channel_id, asked.as_ref()).await??),
        None => None,
    };
    let edited = video.edit(edit.title, target.as_ref(), edit.views)?;
    store::save(&mut tx, &video, false).await?;
    tx.raise(edited_event(&edited)).await?;
    tx.commit().await?;
    Ok(video)
}

pub async fn view(store: &Store, video_id: &str) -> Result<Video, Error> {
    let mut tx = store.begin().await?;
    let mut video = store::lock(&mut tx, video_id)
        .await?
        .ok_or_else(|| Error::NotFound(video_id.to_owned()))?;
    let viewed = video.view()?;
    store::save(&mut tx, &video, false).await?;
    // A view is not an edit: no notification, no policy check, only the totals follow.
    let event = pb::VideoViewed {
        video_id: viewed.video_id.clone(),
        client_id: viewed.client_id.clone(),
        channel_id: viewed.channel_id.clone(),
        title: viewed.title.clone(),
        view_count: viewed.view_count,
    };
    tx.raise(event_of(&event, &viewed)).await?;
    tx.commit().await?;
    Ok(video)
}

pub async fn delete(store: &Store, video_id: &str) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let mut video = store::lock(&mut tx, video_id)
        .await?
        .ok_or_else(|| Error::NotFound(video_id.to_owned()))?;
    delete_locked(&mut tx, &mut video).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a locked video for good and raises VideoDeleted (by its owner, or with its channel).
pub async fn delete_locked(tx: &mut Tx, video: &mut Video) -> Result<(), sqlx::Error> {
    let deleted = video.delete();
    store::save(tx, video, true).await?;
    let event = pb::VideoDeleted {
        video_id: deleted.video_id.clone(),
        client_id: deleted.client_id.clone(),
        channel_id: deleted.channel_id.clone(),
    };
    tx.raise(event_of(&event, &deleted)).await
}

/// What channel answered about a channel the replica has not heard of (None: the replica
/// knew it). Asked before any transaction opens: a call never holds the writer.
async fn resolve(
    store: &Store,
    channel: &Peer,
    channel_id: &str,
) -> Result<Option<LiveChannel>, Error> {
    let replica = store::channel(store, channel_id).await?;
    match ReplicaChannel::check(replica.as_ref(), channel_id)? {
        ChannelCheck::Live(_) => Ok(None),
        ChannelCheck::Ask => ask_channel(channel, channel_id).await.map(Some),
    }
}

/// The channel, checked again on its locked replica row; a channel channel confirmed is
/// learned unless the replica has heard of it meanwhile.
async fn live_channel(
    tx: &mut Tx,
    channel_id: &str,
    asked: Option<&LiveChannel>,
) -> Result<Result<LiveChannel, VideoError>, sqlx::Error> {
    let not_found = || Ok(Err(VideoError::ChannelNotFound(channel_id.to_owned())));
    let mut replica = store::lock_channel(tx, channel_id).await?;
    if !replica.is_heard() {
        let Some(asked) = asked else {
            // Heard of a moment ago, then forgotten: cannot happen (rows are never removed).
            return not_found();
        };
        replica = ReplicaChannel::learned(channel_id, &asked.client_id);
        store::save_channel(tx, &replica).await?;
    }
    match ReplicaChannel::check(Some(&replica), channel_id) {
        Ok(ChannelCheck::Live(live)) => Ok(Ok(live)),
        Ok(ChannelCheck::Ask) => not_found(),
        Err(rule) => Ok(Err(rule)),
    }
}

/// Asks channel about a channel the replica has not heard of (created a moment ago?).
async fn ask_channel(channel: &Peer, channel_id: &str) -> Result<LiveChannel, Error> {
    let request = pb::GetChannelRequest {
        channel_id: channel_id.to_owned(),
    };
    let answer = channel
        .call(Retry::Safe, |ch| {
            let request = channel.request(request.clone());
            async move { ChannelServiceClient::new(ch).get_channel(request).await }
        })
        .await;
    match answer {
        Ok(found) => Ok(LiveChannel {
            channel_id: channel_id.to_owned(),
            client_id: found.client_id,
        }),
        Err(error) if error.is_not_found() => {
            Err(VideoError::ChannelNotFound(channel_id.to_owned()).into())
        }
        Err(error) => Err(error.into()),
    }
}

pub fn event_of<M: prost::Message + prost::Name>(event: &M, c: &Changed) -> Event {
    Event::new(CONTEXT, event, &c.video_id, c.version, &c.video_id)
}

fn edited_event(c: &Changed) -> Event {
    let event = pb::VideoEdited {
        video_id: c.video_id.clone(),
        client_id: c.client_id.clone(),
        channel_id: c.channel_id.clone(),
        title: c.title.clone(),
        view_count: c.view_count,
        previous_channel_id: c.previous_channel_id.clone(),
    };
    event_of(&event, c)
}
