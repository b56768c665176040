//! Policy's event policies: every upload and edit is checked against the live policies'
//! banned words (only a video version newer than the last checked: a stale or replayed
//! edit orders nothing), and every refund request is decided once.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Raise, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{check_title, decide, is_newer};
use crate::{events, store};

pub struct Police;

async fn check(tx: &mut Tx, video_id: &str, title: &str, version: i64) -> Result<(), HandlerError> {
    if !is_newer(store::lock_video(tx, video_id).await?, version) {
        return Ok(());
    }
    store::save_video(tx, video_id, version).await?;
    let policies = store::banning(tx).await?;
    if let Some(takedown) = check_title(video_id, title, &policies) {
        tracing::info!(video_id, policy_id = %takedown.policy_id, "takedown ordered");
        tx.raise(events::takedown(&takedown, version)).await?;
    }
    Ok(())
}

mediamesh_mesh::on_events! { Police:
    pb::VideoUploaded |tx, e, v| check(tx, &e.video_id, &e.title, v);
    pb::VideoEdited |tx, e, v| check(tx, &e.video_id, &e.title, v);
}

#[async_trait::async_trait]
impl On<pb::RefundRequested> for Police {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::RefundRequested,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let bar = store::lenient_bar(tx).await?;
        let decision = decide(&e.refund_request_id, &e.client_id, e.total_view, bar);
        // Decided once per request, even if the request is raised again under another id.
        if store::insert_refund(tx, &decision).await? {
            tracing::info!(
                refund_request_id = %decision.refund_request_id,
                status = decision.verdict.as_str(),
                "refund decided"
            );
            tx.raise(events::decided(&decision)).await?;
        }
        Ok(())
    }
}
