//! The movie's event policy: the review count follows review events, exactly once per
//! review id (the correlation key), even redelivered or reordered.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx, tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct CountReviews;

#[async_trait::async_trait]
impl Handler for CountReviews {
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
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
