//! Notification's event policy: one notification per video status change and per refund
//! decision, sent to the log, and queued for the webhook when one is configured.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{Kind, Notice};
use crate::store;

pub struct Notify {
    /// Queue a webhook delivery with each new notification.
    pub webhook: bool,
}

impl Notify {
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

#[async_trait::async_trait]
impl On<pb::VideoUploaded> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoUploaded,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let message = format!(
            "video {} {:?} uploaded into channel {}",
            e.video_id, e.title, e.channel_id
        );
        let notice = Notice::video(
            Kind::VideoUploaded,
            &e.video_id,
            d.aggregate_version(),
            &e.client_id,
            message,
        );
        self.send(tx, notice).await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoEdited> for Notify {
    async fn on(&self, tx: &mut Tx, e: pb::VideoEdited, d: &Delivered) -> Result<(), HandlerError> {
        let message = format!(
            "video {} {:?} edited ({} views)",
            e.video_id, e.title, e.view_count
        );
        let notice = Notice::video(
            Kind::VideoEdited,
            &e.video_id,
            d.aggregate_version(),
            &e.client_id,
            message,
        );
        self.send(tx, notice).await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoDeleted> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let message = format!("video {} deleted", e.video_id);
        let notice = Notice::video(
            Kind::VideoDeleted,
            &e.video_id,
            d.aggregate_version(),
            &e.client_id,
            message,
        );
        self.send(tx, notice).await
    }
}

#[async_trait::async_trait]
impl On<pb::VideoRemovedByPolicy> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::VideoRemovedByPolicy,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let message = format!("video {} taken down: {}", e.video_id, e.reason);
        let notice = Notice::video(
            Kind::VideoRemovedByPolicy,
            &e.video_id,
            d.aggregate_version(),
            &e.client_id,
            message,
        );
        self.send(tx, notice).await
    }
}

#[async_trait::async_trait]
impl On<pb::RefundDecided> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::RefundDecided,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        self.send(
            tx,
            Notice::refund(&e.refund_request_id, &e.client_id, &e.status),
        )
        .await
    }
}
