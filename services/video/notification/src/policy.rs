//! Notification's event policy: one notification per video status change and per refund
//! decision, sent to the log, and queued for the webhook when one is configured.
use mediamesh_mesh::{HandlerError, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{Kind, Notice};
use crate::store;

pub struct Notify {
    /// Queue a webhook delivery with each new notification.
    pub webhook: bool,
}

impl Notify {
    /// A video's notification ("video <id> <what>"), one per video version it reached.
    async fn video(
        &self,
        tx: &mut Tx,
        kind: Kind,
        (video_id, client_id, version): (&str, &str, i64),
        what: String,
    ) -> Result<(), HandlerError> {
        let message = format!("video {video_id} {what}");
        let notice = Notice::video(kind, video_id, version, client_id, message);
        self.send(tx, notice).await
    }

    async fn send(&self, tx: &mut Tx, notice: Notice) -> Result<(), HandlerError> {
        let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
        if !store::insert(tx, &notice, &now).await? {
            return Ok(()); // told already
        }
        tracing::info!(
            notification_id = notice.notification_id(),
            client_id = notice.client_id(),
            kind = notice.kind().as_str(),
            message = notice.message(),
            "notification"
        );
        if self.webhook {
            let payload = serde_json::json!({
                "notificationId": notice.notification_id(),
                "clientId": notice.client_id(),
                "kind": notice.kind().as_str(),
                "subjectId": notice.subject_id(),
                "message": notice.message(),
                "createTime": now,
            });
            store::queue(tx, notice.notification_id(), &payload.to_string()).await?;
        }
        Ok(())
    }
}

mediamesh_mesh::on_events! { Notify:
    pb::VideoUploaded |self, tx, e, v| {
        let what = format!("{:?} uploaded into channel {}", e.title, e.channel_id);
        self.video(tx, Kind::VideoUploaded, (&e.video_id, &e.client_id, v), what)
    };
    pb::VideoEdited |self, tx, e, v| {
        let what = format!("{:?} edited ({} views)", e.title, e.view_count);
        self.video(tx, Kind::VideoEdited, (&e.video_id, &e.client_id, v), what)
    };
    pb::VideoDeleted |self, tx, e, v|
        self.video(tx, Kind::VideoDeleted, (&e.video_id, &e.client_id, v), "deleted".into());
    pb::VideoRemovedByPolicy |self, tx, e, v| {
        let what = format!("taken down: {}", e.reason);
        self.video(tx, Kind::VideoRemovedByPolicy, (&e.video_id, &e.client_id, v), what)
    };
    pb::RefundDecided |self, tx, e, _v|
        self.send(tx, Notice::refund(&e.refund_request_id, &e.client_id, &e.status));
}
