//! Payment's event policies: a reservation cancelled by its customer, or abandoned after a
//! failed payment call, cancels its payment. A reservation with no payment yet gets a void,
//! so a late `Pay` with the same key cannot approve it.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx, input};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::{Cause, Payment, Target};
use crate::pay::CONTEXT;
use crate::store;

pub struct CancelPayment;

#[async_trait::async_trait]
impl On<pb::ReservationCancelRequested> for CancelPayment {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationCancelRequested,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let target = Target {
            rsv_id: e.rsv_id,
            movie_id: e.movie_id,
            customer_id: e.customer_id,
        };
        cancel(tx, target, Cause::CancelRequested).await
    }
}

#[async_trait::async_trait]
impl On<pb::ReservationFailed> for CancelPayment {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationFailed,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let target = Target {
            rsv_id: e.rsv_id,
            movie_id: e.movie_id,
            customer_id: e.customer_id,
        };
        cancel(tx, target, Cause::ReservationFailed).await
    }
}

async fn cancel(tx: &mut Tx, target: Target, cause: Cause) -> Result<(), HandlerError> {
    if !input::is_id(&target.rsv_id) {
        return Err(HandlerError::Poison("rsv_id breaks the id rule".into()));
    }
    // Insert the void first, then lock: under READ COMMITTED a cancel that only read "no
    // payment" would miss a `Pay` still uncommitted; the insert waits for it and conflicts,
    // and the lock below then sees it.
    let mut payment = if Payment::void(&target).insert(tx).await? {
        None
    } else {
        store::lock(tx, &target.rsv_id).await?
    };
    let cancelled = Payment::cancel(payment.as_mut(), &target, cause);
    if let Some(payment) = &payment {
        store::save(tx, payment).await?;
    }
    if let Some(c) = cancelled {
        let event = pb::PaymentCancelled {
            rsv_id: c.rsv_id.clone(),
            movie_id: c.movie_id,
            customer_id: c.customer_id,
        };
        tx.raise(Event::new(CONTEXT, &event, &c.rsv_id, 2, &c.rsv_id))
            .await?;
    }
    Ok(())
}
