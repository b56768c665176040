//! Reservation's event policies: keep the seat ledger in step with the movies (in movie
//! version order, whatever the delivery order), and close a cancelling reservation once its
//! payment is cancelled (the end of the cancel saga).
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::Status;
use crate::store;

pub struct Follow;

#[async_trait::async_trait]
impl Handler for Follow {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let version = event.aggregate_version();
        match event.name() {
            "MovieRegistered" => {
                let e: pb::MovieRegistered = event.decode()?;
                store::apply_movie(tx, &e.movie_id, e.seats.into(), version).await?;
            }
            "MovieUpdated" => {
                let e: pb::MovieUpdated = event.decode()?;
                store::apply_movie(tx, &e.movie_id, e.seats.into(), version).await?;
            }
            "MovieDeleted" => {
                let e: pb::MovieDeleted = event.decode()?;
                store::delete_movie(tx, &e.movie_id, version).await?;
            }
            "PaymentCancelled" => {
                let e: pb::PaymentCancelled = event.decode()?;
                close(tx, &e.rsv_id).await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}

async fn close(tx: &mut Tx, rsv_id: &str) -> Result<(), HandlerError> {
    let Some(mut r) = store::get_in(tx, rsv_id).await? else {
        return Ok(()); // not ours (never recorded)
    };
    if r.status != Status::Cancelling {
        return Ok(()); // a failed reservation's payment: its seat already went back
    }
    r.become_(Status::Cancelled);
    if !store::update_status(tx, &r).await? {
        return Err(HandlerError::Transient(format!(
            "reservation {rsv_id} changed meanwhile"
        )));
    }
    store::release_seat(tx, &r.movie_id).await?;
    let cancelled = pb::ReservationCancelled {
        rsv_id: r.id.clone(),
        movie_id: r.movie_id.clone(),
        customer_id: r.customer_id.clone(),
    };
    tx.raise(Event::new(
        "cinema.reservation",
        &cancelled,
        &r.id,
        r.version,
        &r.id,
    ))
    .await?;
    Ok(())
}
