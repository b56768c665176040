//! The movie's event policy: the review count follows review events and the confirmed
//! count follows reservation events, each exactly once per review or reservation id (the
//! correlation key), even redelivered or reordered.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct Count;

#[async_trait::async_trait]
impl Handler for Count {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "ReviewCreated" => {
                let e: pb::ReviewCreated = event.decode()?;
                if tally::add(tx, "reviews", &e.review_id).await? {
                    store::add_reviews(tx, &e.movie_id, 1).await?;
                }
            }
            "ReviewDeleted" => {
                let e: pb::ReviewDeleted = event.decode()?;
                if tally::remove(tx, "reviews", &e.review_id).await? {
                    store::add_reviews(tx, &e.movie_id, -1).await?;
                }
            }
            // Movie learns of confirmations only by event, so a seat change racing a
            // confirmation may still pass here; the seat ledger never lets reserved exceed
            // seats, it then just admits nobody until enough reservations are cancelled.
            "ReservationConfirmed" => {
                let e: pb::ReservationConfirmed = event.decode()?;
                if tally::add(tx, "confirmed", &e.rsv_id).await? {
                    store::add_confirmed(tx, &e.movie_id, 1).await?;
                }
            }
            "ReservationCancelled" => {
                let e: pb::ReservationCancelled = event.decode()?;
                if tally::remove(tx, "confirmed", &e.rsv_id).await? {
                    store::add_confirmed(tx, &e.movie_id, -1).await?;
                }
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
