//! Payment's event policies: a cancelled or abandoned purchase cancels its payment.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Tx};
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
        match store::get_in(tx, &purchase_id).await? {
            None => {
                store::insert(tx, &Payment::voided(&purchase_id, &customer_id)).await?;
            }
            Some(payment) if payment.is_approved() => {
                if let Some(version) = store::cancel(tx, &purchase_id).await? {
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
            }
            Some(_) => {} // already cancelled: nothing to compensate
        }
        Ok(())
    }
}
