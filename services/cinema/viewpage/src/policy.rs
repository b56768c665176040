//! The viewpage's projection: every event it subscribes to, applied to its own tables;
//! movie and reservation events in their aggregate's version order, whatever the delivery
//! order.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct Project;

#[async_trait::async_trait]
impl Handler for Project {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let version = event.aggregate_version();
        match event.name() {
            "MovieRegistered" => {
                let e: pb::MovieRegistered = event.decode()?;
                store::upsert_movie(tx, &e.movie_id, &e.title, e.seats.into(), version).await?;
            }
            "MovieUpdated" => {
                let e: pb::MovieUpdated = event.decode()?;
                store::upsert_movie(tx, &e.movie_id, &e.title, e.seats.into(), version).await?;
            }
            "MovieDeleted" => {
                let e: pb::MovieDeleted = event.decode()?;
                store::delete_movie(tx, &e.movie_id, version).await?;
            }
            "ReservationConfirmed" => {
                let e: pb::ReservationConfirmed = event.decode()?;
                store::set_reservation(tx, &e.rsv_id, &e.movie_id, "CONFIRMED", version).await?;
            }
            "ReservationCancelRequested" => {
                let e: pb::ReservationCancelRequested = event.decode()?;
                store::set_reservation(tx, &e.rsv_id, &e.movie_id, "CANCELLING", version).await?;
            }
            "ReservationCancelled" => {
                let e: pb::ReservationCancelled = event.decode()?;
                store::set_reservation(tx, &e.rsv_id, &e.movie_id, "CANCELLED", version).await?;
            }
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
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
