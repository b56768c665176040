//! Payment's event policies: a cancelled or abandoned purchase cancels its payment (the
//! purchase saga's compensation).
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx, input};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::Payment;
use crate::pay::CONTEXT;
use crate::store;

pub struct CancelPayment;

#[async_trait::async_trait]
impl On<pb::PurchaseCancelled> for CancelPayment {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::PurchaseCancelled,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        cancel(tx, &e.purchase_id, &e.customer_id).await
    }
}

#[async_trait::async_trait]
impl On<pb::PurchaseFailed> for CancelPayment {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::PurchaseFailed,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        cancel(tx, &e.purchase_id, &e.customer_id).await
    }
}

/// Voids the purchase's payment, or cancels it and raises the compensation.
async fn cancel(tx: &mut Tx, purchase_id: &str, customer_id: &str) -> Result<(), HandlerError> {
    if !input::is_id(purchase_id) {
        return Err(HandlerError::Poison(
            "purchase_id breaks the id rule".into(),
        ));
    }
    // Insert first, then look: a void that only inserted after reading "no payment" would let
    // a `Pay` committing in between escape it (READ COMMITTED). The insert waits for a
    // concurrent `Pay` of the same key, so the lock below sees it.
    if Payment::void(purchase_id, customer_id).insert(tx).await? {
        return Ok(());
    }
    let Some(mut payment) = store::lock(tx, purchase_id).await? else {
        return Ok(());
    };
    if let Some(cancelled) = payment.cancel() {
        store::save(tx, &payment).await?;
        let event = pb::PaymentCancelled {
            purchase_id: cancelled.purchase_id.clone(),
            customer_id: cancelled.customer_id,
            amount: cancelled.amount.get(),
            free_vod: cancelled.free_vod,
        };
        let id = &cancelled.purchase_id;
        tx.raise(Event::new(CONTEXT, &event, id, cancelled.version, id))
            .await?;
    }
    Ok(())
}
