//! Payment's event policies: a cancelled or abandoned purchase cancels its payment.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx, input};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::Payment;
use crate::store;

pub struct CancelPayment;

#[async_trait::async_trait]
impl Handler for CancelPayment {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let (purchase_id, customer_id) = match event.name() {
            "PurchaseCancelled" => {
                let e: pb::PurchaseCancelled = event.decode()?;
                (e.purchase_id, e.customer_id)
            }
            "PurchaseFailed" => {
                let e: pb::PurchaseFailed = event.decode()?;
                (e.purchase_id, e.customer_id)
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        };
        if !input::is_id(&purchase_id) {
            return Err(HandlerError::Poison(
                "purchase_id breaks the id rule".into(),
            ));
        }
        // Insert first, then look: a void that only inserted after reading "no payment"
        // would let a `Pay` committing in between escape it (READ COMMITTED). The insert
        // waits for a concurrent `Pay` of the same key, so the cancel below sees it.
        if store::insert(tx, &Payment::voided(&purchase_id, &customer_id)).await? {
            return Ok(());
        }
        // An approved payment is cancelled and compensated; a cancelled one stays as it is.
        if let Some((version, payment)) = store::cancel(tx, &purchase_id).await? {
            let cancelled = pb::PaymentCancelled {
                purchase_id: purchase_id.clone(),
                customer_id: payment.customer_id,
                amount: payment.amount as i32,
                free_vod: payment.free_vod,
            };
            tx.raise(Event::new(
                "vod.payment",
                &cancelled,
                &purchase_id,
                version,
                &purchase_id,
            ))
            .await?;
        }
        Ok(())
    }
}
