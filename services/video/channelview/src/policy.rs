//! The projection: client, channel, video and refund events into the client's screen. Each
//! handler hands the domain a row (a placeholder if not seen yet) and stores what it decides.
use mediamesh_mesh::Tx;
use mediamesh_proto::video::v1 as pb;

use crate::domain::{RefundStatus, VideoContent};
use crate::store::{self, Refund};

pub struct Project;

mediamesh_mesh::on_events! { Project:
    pb::ClientRegistered |tx, e, _v| store::client_seen(tx, &e.client_id);
    pb::ClientDeleted |tx, e, _v| store::client_deleted(tx, &e.client_id);
    pb::ClientTotalChanged |tx, e, v| store::client_total(tx, &e.client_id, e.total_view, v);
    pb::ChannelCreated |tx, e, v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(&e.channel_name, v));
    pb::ChannelRenamed |tx, e, v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(&e.channel_name, v));
    pb::ChannelTotalChanged |tx, e, v| store::change_channel(tx, &e.channel_id, &e.client_id, |ch| {
        ch.totals(e.total_view, e.video_count, v)
    });
    pb::ChannelDeleted |tx, e, _v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.delete());
    pb::VideoUploaded |tx, e, v| uploaded(tx, &e, v);
    pb::VideoEdited |tx, e, v|
        content(tx, &e.video_id, (&e.client_id, &e.channel_id), &e.title, e.view_count, v);
    pb::VideoViewed |tx, e, v|
        content(tx, &e.video_id, (&e.client_id, &e.channel_id), &e.title, e.view_count, v);
    pb::VideoDeleted |tx, e, _v|
        store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.delete());
    pb::VideoRemovedByPolicy |tx, e, _v|
        store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.remove());
    pb::RefundRequested |tx, e, _v| store::set_refund(tx, &Refund {
        refund_request_id: &e.refund_request_id,
        client_id: &e.client_id,
        status: "REQUESTED",
        stage: RefundStatus::Requested,
        total_view: e.total_view,
        refund_policy: 0,
    });
    pb::RefundDecided |tx, e, _v| store::set_refund(tx, &Refund {
        refund_request_id: &e.refund_request_id,
        client_id: &e.client_id,
        status: &e.status,
        stage: RefundStatus::Decided,
        total_view: e.total_view,
        refund_policy: e.refund_policy,
    });
}

/// An upload: its content as of `version` and when it was uploaded (newest first).
async fn uploaded(tx: &mut Tx, e: &pb::VideoUploaded, version: i64) -> Result<(), sqlx::Error> {
    let content = VideoContent {
        client_id: &e.client_id,
        channel_id: &e.channel_id,
        title: &e.title,
        view_count: e.view_count,
    };
    store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| {
        // Both apply, whichever order the upload and the edits arrive in.
        v.uploaded_at(&e.upload_time) | v.content(&content, version)
    })
    .await
}

/// A video's content as of `version` (uploaded, edited or viewed).
async fn content(
    tx: &mut Tx,
    video_id: &str,
    (client_id, channel_id): (&str, &str),
    title: &str,
    view_count: i64,
    version: i64,
) -> Result<(), sqlx::Error> {
    let content = VideoContent {
        client_id,
        channel_id,
        title,
        view_count,
    };
    store::change_video(tx, video_id, client_id, channel_id, |v| {
        v.content(&content, version)
    })
    .await
}
