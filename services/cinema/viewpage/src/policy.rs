//! The viewpage's projection: every event it subscribes to, applied to its own tables by the
//! domain's rules (movie and reservation events in their aggregate's version order, whatever
//! the delivery order; review counts once per review id).
use mediamesh_mesh::{Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::RsvStatus;
use crate::store;

pub struct Project;

mediamesh_mesh::on_events! { Project:
    pb::MovieRegistered |tx, e, v|
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, v));
    pb::MovieUpdated |tx, e, v|
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, v));
    pb::MovieDeleted |tx, e, v| store::change_movie(tx, &e.movie_id, |m| {
        m.delete(v);
        true
    });
    pb::ReservationConfirmed |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Confirmed, v);
    pb::ReservationCancelRequested |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelling, v);
    pb::ReservationCancelled |tx, e, v|
        store::set_reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelled, v);
    pb::ReviewCreated |tx, e, _v| review(tx, &e.review_id, &e.movie_id, true);
    pb::ReviewDeleted |tx, e, _v| review(tx, &e.review_id, &e.movie_id, false);
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
