//! Payment's event policy: a reservation cancelled by its customer, or abandoned after a
//! failed payment call, cancels its payment. A reservation with no payment yet gets a
//! cancelled one, so a late `Pay` with the same key cannot approve it.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::store::{self, CANCELLED};

pub struct CancelPayment;

#[async_trait::async_trait]
impl Handler for CancelPayment {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let (rsv_id, movie_id, customer_id, requested) = match event.name() {
            "ReservationCancelRequested" => {
                let e: pb::ReservationCancelRequested = event.decode()?;
                (e.rsv_id, e.movie_id, e.customer_id, true)
            }
            "ReservationFailed" => {
                let e: pb::ReservationFailed = event.decode()?;
                (e.rsv_id, e.movie_id, e.customer_id, false)
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        };
        let voided = pb::Payment {
            rsv_id: rsv_id.clone(),
            movie_id: movie_id.clone(),
            customer_id: customer_id.clone(),
            amount: 0,
            pay_status: CANCELLED.to_owned(),
        };
        // Insert the void first, then cancel: under READ COMMITTED a cancel (an update)
        // would not see a `Pay` still uncommitted and the payment would escape; the insert
        // waits for it and conflicts, and the cancel then sees it.
        let was_approved =
            !store::insert(tx, &voided, true).await? && store::cancel(tx, &rsv_id).await?;
        // The customer's cancellation always hears back (the reservation closes on it).
        if was_approved || requested {
            let cancelled = pb::PaymentCancelled {
                rsv_id: rsv_id.clone(),
                movie_id,
                customer_id,
            };
            tx.raise(Event::new(
                "cinema.payment",
                &cancelled,
                &rsv_id,
                2,
                &rsv_id,
            ))
            .await?;
        }
        Ok(())
    }
}
