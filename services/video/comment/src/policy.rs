//! Comment's event policy: its replica of the videos follows video events in video version
//! order, whatever the delivery order; a video deleted or taken down loses its comments.
use mediamesh_mesh::{HandlerError, Tx};
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

mediamesh_mesh::on_events! { Replicate:
    pb::VideoUploaded |tx, e, v| uploaded(tx, &e.video_id, v);
    pb::VideoDeleted |tx, e, v| gone(tx, &e.video_id, v);
    pb::VideoRemovedByPolicy |tx, e, v| gone(tx, &e.video_id, v);
}
