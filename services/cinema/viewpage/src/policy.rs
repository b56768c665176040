//! The viewpage's projection: every event it subscribes to, applied to its own tables by the
//! domain's rules (movie and reservation events in their aggregate's version order, whatever
//! the delivery order; review counts once per review id).
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::RsvStatus;
use crate::store;

pub struct Project;

/// One `On` per event: the change it makes (`$v`: the version of the aggregate it is about).
/// Registered and updated movies make the same change.
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
    MovieRegistered |tx, e, v|
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, v));
    MovieUpdated |tx, e, v|
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, v));
    MovieDeleted |tx, e, v| store::change_movie(tx, &e.movie_id, |m| {
        m.delete(v);
        true
    });
    ReservationConfirmed |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Confirmed, v);
    ReservationCancelRequested |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelling, v);
    ReservationCancelled |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelled, v);
    ReviewCreated |tx, e, _v| review(tx, &e.review_id, &e.movie_id, true);
    ReviewDeleted |tx, e, _v| review(tx, &e.review_id, &e.movie_id, false);
}

/// A review created or deleted: the movie's count moves once per review id, whatever order
/// the two arrive in (the tally).
async fn review(
    tx: &mut Tx,
    review_id: &str,
    movie_id: &str,
    created: bool,
) -> Result<(), sqlx::Error> {
    let (counted, by) = if created {
        (tally::add(tx, "reviews", review_id).await?, 1)
    } else {
        (tally::remove(tx, "reviews", review_id).await?, -1)
    };
    if counted {
        store::change_movie(tx, movie_id, |m| {
            m.add_reviews(by);
            true
        })
        .await?;
    }
    Ok(())
}
