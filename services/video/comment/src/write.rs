//! Writing comments: the video is checked against the replica, or asked of video on a miss
//! (never a false 404: a video uploaded a moment ago is found), and the check is repeated
//! on the replica's locked row inside the write, so a comment and its video's removal
//! serialize and no comment survives on a gone video.
use mediamesh_mesh::{Peer, Retry, Store};
use mediamesh_proto::video::v1 as pb;
use mediamesh_proto::video::v1::video_service_client::VideoServiceClient;

use crate::domain::{Comment, CommentError, ReplicaVideo, VideoCheck};
use crate::error::Error;
use crate::store;

/// The status video gives a taken-down video.
const REMOVED: &str = "REMOVED_BY_POLICY";

/// A comment as asked for (fields checked at the edge).
pub struct NewComment {
    pub comment_id: String,
    pub video_id: String,
    pub client_id: String,
    pub contents: String,
}

pub async fn create(store: &Store, video: &Peer, new: NewComment) -> Result<Comment, Error> {
    let check = ReplicaVideo::check(store::video(store, &new.video_id).await?.as_ref())?;
    if check == VideoCheck::Ask {
        ask_video(video, &new.video_id).await?;
    }
    let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
    let comment = Comment::write(
        new.comment_id,
        new.video_id,
        new.client_id,
        new.contents,
        now,
    );
    let mut tx = store.begin().await?;
    match store::lock_video(&mut tx, comment.video_id()).await? {
        // Asked and confirmed: the replica learns it.
        None => store::save_video(&mut tx, &ReplicaVideo::learned(comment.video_id())).await?,
        Some(replica) => {
            ReplicaVideo::check(Some(&replica))?;
        }
    }
    if !store::insert(&mut tx, &comment).await? {
        drop(tx);
        return replay(store, &comment).await;
    }
    tx.commit().await?;
    Ok(comment)
}

/// A comment under a taken id (AIP-155): the same request again is answered the comment as
/// it is; another request under that id is refused.
async fn replay(store: &Store, asked: &Comment) -> Result<Comment, Error> {
    let id = asked.comment_id().to_owned();
    match store::get(store, &id).await? {
        Some(existing) if existing.same_request(asked) => Ok(existing),
        _ => Err(Error::IdTaken(id)),
    }
}

/// Asks video whether a video the replica has not heard of exists and is live.
async fn ask_video(video: &Peer, video_id: &str) -> Result<(), Error> {
    let request = pb::GetVideoRequest {
        video_id: video_id.to_owned(),
    };
    let answer = video
        .call(Retry::Safe, |channel| {
            let request = video.request(request.clone());
            async move { VideoServiceClient::new(channel).get_video(request).await }
        })
        .await;
    match answer {
        Ok(found) if found.status != REMOVED => Ok(()),
        Ok(_) => Err(CommentError::VideoNotFound(video_id.to_owned()).into()),
        Err(error) if error.is_not_found() => {
            Err(CommentError::VideoNotFound(video_id.to_owned()).into())
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn edit(store: &Store, comment_id: &str, contents: String) -> Result<Comment, Error> {
    let mut tx = store.begin().await?;
    let not_found = || Error::NotFound(comment_id.to_owned());
    let mut comment = store::lock(&mut tx, comment_id)
        .await?
        .ok_or_else(not_found)?;
    if !comment.edit(contents) {
        return Err(not_found());
    }
    store::save(&mut tx, &comment).await?;
    tx.commit().await?;
    Ok(comment)
}

pub async fn delete(store: &Store, comment_id: &str) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let not_found = || Error::NotFound(comment_id.to_owned());
    let mut comment = store::lock(&mut tx, comment_id)
        .await?
        .ok_or_else(not_found)?;
    if !comment.delete() {
        return Err(not_found());
    }
    store::save(&mut tx, &comment).await?;
    tx.commit().await?;
    Ok(())
}
