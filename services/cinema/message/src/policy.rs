//! Message's event policy: a notice per confirmed or cancelled reservation. The message id
//! is the event id, so the notice exists once per event.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct Notify;

#[async_trait::async_trait]
impl Handler for Notify {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let (rsv_id, customer_id, kind, text) = match event.name() {
            "ReservationConfirmed" => {
                let e: pb::ReservationConfirmed = event.decode()?;
                let text = format!(
                    "reservation {} for movie {} is confirmed",
                    e.rsv_id, e.movie_id
                );
                (e.rsv_id, e.customer_id, "CONFIRMED", text)
            }
            "ReservationCancelled" => {
                let e: pb::ReservationCancelled = event.decode()?;
                let text = format!(
                    "reservation {} for movie {} is cancelled",
                    e.rsv_id, e.movie_id
                );
                (e.rsv_id, e.customer_id, "CANCELLED", text)
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        };
        let message = pb::Message {
            message_id: event.id.clone(),
            rsv_id,
            customer_id,
            kind: kind.to_owned(),
            text,
            create_time: mediamesh_mesh::observe::telemetry::now_rfc3339(),
        };
        // The seed's "send" is a log line until a real sink is configured.
        tracing::info!(rsv_id = %message.rsv_id, kind, "reservation message");
        store::insert(tx, &message).await?;
        Ok(())
    }
}
