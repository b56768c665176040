//! The movie's event policies: the review count follows review events and the confirmed
//! count follows reservation events, each exactly once per review or reservation id (the
//! correlation key, tallied), even redelivered or reordered.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct Count;

#[async_trait::async_trait]
impl On<pb::ReviewCreated> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReviewCreated,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::add(tx, "reviews", &e.review_id).await? {
            store::add_reviews(tx, &e.movie_id, 1).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::ReviewDeleted> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReviewDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::remove(tx, "reviews", &e.review_id).await? {
            store::add_reviews(tx, &e.movie_id, -1).await?;
        }
        Ok(())
    }
}

/// Movie learns of confirmations only by event, so a seat change racing a confirmation may
/// still pass; the seat ledger never lets reserved exceed seats, it then just admits nobody
/// until enough reservations are cancelled.
#[async_trait::async_trait]
impl On<pb::ReservationConfirmed> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationConfirmed,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::add(tx, "confirmed", &e.rsv_id).await? {
            store::add_confirmed(tx, &e.movie_id, 1).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::ReservationCancelled> for Count {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationCancelled,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::remove(tx, "confirmed", &e.rsv_id).await? {
            store::add_confirmed(tx, &e.movie_id, -1).await?;
        }
        Ok(())
    }
}
