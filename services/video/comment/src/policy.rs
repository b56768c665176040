//! Comment's event policy: its replica of the videos follows video events in video version
//! order, whatever the delivery order; a video deleted or taken down loses its comments.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::ReplicaVideo;
use crate::store;

pub struct Replicate;

async fn uploaded(tx: &mut Tx, video_id: &str, version: i64) -> Result<(), HandlerError> {
    match store::lock_video(tx, video_id).await? {
        None => store::save_video(tx, &ReplicaVideo::uploaded(video_id, version)).await?,
        Some(mut v) => {
            if v.upload(version) {
                store::save_video(tx, &v).await?;
            }
        }
    }
    Ok(())
}

async fn gone(tx: &mut Tx, video_id: &str, version: i64) -> Result<(), HandlerError> {
    let first = match store::lock_video(tx, video_id).await? {
        None => {
            store::save_video(tx, &ReplicaVideo::gone(video_id, version)).await?;
            true
        }
        Some(mut v) => {
            let first = v.remove(version);
            store::save_video(tx, &v).await?;
            first
        }
    };
    if first {
        let lost = store::delete_of_video(tx, video_id).await?;
        tracing::info!(video_id, lost, "video gone: its comments deleted");
    }
    Ok(())
}

#[async_trait::async_trait]
impl On<pb::VideoUploaded> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoUploaded,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        uploaded(tx, &e.video_id, d.aggregate_version()).await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoDeleted> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        gone(tx, &e.video_id, d.aggregate_version()).await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoRemovedByPolicy> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoRemovedByPolicy,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        gone(tx, &e.video_id, d.aggregate_version()).await
    }
}
