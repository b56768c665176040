//! The projection: client, channel, video and refund events into the client's screen. Each
//! handler hands the domain a row (a placeholder if not seen yet) and stores what it decides.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{RefundStatus, VideoContent};
use crate::store::{self, Refund};

pub struct Project;

/// One `On` per event: the change it makes (`$v`: the version of the aggregate it is about).
/// Events that carry the same fields (created and renamed, uploaded and edited) make the
/// same change.
macro_rules! project {
    ($($event:ident |$tx:ident, $e:ident, $v:ident| $change:expr;)*) => {$(
        #[async_trait::async_trait]
        impl On<pb::$event> for Project {
            async fn on(
                &self,
                $tx: &mut Tx,
                $e: pb::$event,
                d: &Delivered,
            ) -> Result<(), HandlerError> {
                let $v = d.aggregate_version();
                $change.await?;
                Ok(())
            }
        }
    )*};
}

project! {
    ClientRegistered |tx, e, _v| store::client_seen(tx, &e.client_id);
    ClientDeleted |tx, e, _v| store::client_deleted(tx, &e.client_id);
    ClientTotalChanged |tx, e, v| store::client_total(tx, &e.client_id, e.total_view, v);
    ChannelCreated |tx, e, v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(&e.channel_name, v));
    ChannelRenamed |tx, e, v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.name(&e.channel_name, v));
    ChannelTotalChanged |tx, e, v| store::change_channel(tx, &e.channel_id, &e.client_id, |ch| {
        ch.totals(e.total_view, e.video_count, v)
    });
    ChannelDeleted |tx, e, _v|
        store::change_channel(tx, &e.channel_id, &e.client_id, |ch| ch.delete());
    VideoUploaded |tx, e, v|
        content(tx, &e.video_id, (&e.client_id, &e.channel_id), &e.title, e.view_count, v);
    VideoEdited |tx, e, v|
        content(tx, &e.video_id, (&e.client_id, &e.channel_id), &e.title, e.view_count, v);
    VideoDeleted |tx, e, _v|
        store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.delete());
    VideoRemovedByPolicy |tx, e, _v|
        store::change_video(tx, &e.video_id, &e.client_id, &e.channel_id, |v| v.remove());
    RefundRequested |tx, e, _v| store::set_refund(tx, &Refund {
        refund_request_id: &e.refund_request_id,
        client_id: &e.client_id,
        status: "REQUESTED",
        stage: RefundStatus::Requested,
        total_view: e.total_view,
        refund_policy: 0,
    });
    RefundDecided |tx, e, _v| store::set_refund(tx, &Refund {
        refund_request_id: &e.refund_request_id,
        client_id: &e.client_id,
        status: &e.status,
        stage: RefundStatus::Decided,
        total_view: e.total_view,
        refund_policy: e.refund_policy,
    });
}

/// A video's content as of `version` (uploaded or edited).
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
