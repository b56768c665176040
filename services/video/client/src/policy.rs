//! Client's event policies: a channel's total (or its deletion) sets that channel, a part of
//! its client, at the channel's version (stale and repeated versions change nothing), then
//! its client is recounted; a moved total raises ClientTotalChanged. Policy's decisions
//! settle refund requests, once.
use mediamesh_mesh::events::{parts, policy::On};
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx};
use mediamesh_proto::video::v1 as pb;

use crate::domain::Changed;
use crate::store;

const CONTEXT: &str = "video.client";

pub struct Follow;

/// The channel as of `version`, with `total_view` (None: deleted); its client is recounted.
async fn channel_is(
    tx: &mut Tx,
    channel_id: &str,
    version: i64,
    client_id: &str,
    total_view: Option<i64>,
) -> Result<(), HandlerError> {
    let scope = store::CHANNELS;
    for client_id in parts::set(tx, scope, channel_id, version, client_id, total_view).await? {
        recount(tx, &client_id).await?;
    }
    Ok(())
}

/// Recounts a live client from its channels' shares (a client not registered yet is
/// counted when it registers).
async fn recount(tx: &mut Tx, client_id: &str) -> Result<(), HandlerError> {
    let Some(mut client) = store::lock(tx, client_id).await? else {
        return Ok(());
    };
    let total = store::sum_channels(tx, client_id).await?;
    if let Some(changed) = client.retotal(total) {
        store::save(tx, &client, false).await?;
        tx.raise(total_changed(&changed)).await?;
    }
    Ok(())
}

pub fn total_changed(c: &Changed) -> Event {
    let event = pb::ClientTotalChanged {
        client_id: c.client_id.clone(),
        total_view: c.total_view,
    };
    Event::new(CONTEXT, &event, &c.client_id, c.version, &c.client_id)
}

mediamesh_mesh::on_events! { Follow:
    pb::ChannelTotalChanged |tx, e, v|
        channel_is(tx, &e.channel_id, v, &e.client_id, Some(e.total_view));
    pb::ChannelDeleted |tx, e, v| channel_is(tx, &e.channel_id, v, &e.client_id, None);
}

#[async_trait::async_trait]
impl On<pb::RefundDecided> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::RefundDecided,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // The request is recorded in the transaction that raised RefundRequested, so policy
        // cannot decide one client does not hold.
        let Some(mut refund) = store::lock_refund(tx, &e.refund_request_id).await? else {
            return Err(HandlerError::Poison(format!(
                "refund request {:?} was never requested here",
                e.refund_request_id
            )));
        };
        let decided = refund
            .decide(&e.status, e.total_view, e.refund_policy)
            .map_err(|error| HandlerError::Poison(format!("RefundDecided status: {error}")))?;
        if decided {
            store::save_refund(tx, &refund).await?;
        }
        Ok(())
    }
}
