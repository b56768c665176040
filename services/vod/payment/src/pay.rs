//! Paying for a purchase: approve by the payment's rules, record it under the purchase id
//! with its `PaymentApproved` (insert, else answer what is recorded), and answer the caller
//! only with a payment that is the answer to its own request.
use mediamesh_mesh::events::once::{Recorded, record_once};
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::vod::v1 as pb;

use crate::domain::{Approved, PayRequest, Payment};
use crate::error::Error;

pub const CONTEXT: &str = "vod.payment";

pub async fn pay(store: &Store, request: PayRequest) -> Result<Payment, Error> {
    let (payment, approved) = Payment::approve(request.clone())?;
    let event = approved_event(&approved);
    match record_once(store, payment, vec![event]).await? {
        Recorded::New(payment) => Ok(payment),
        Recorded::Existing(recorded) if recorded.answers(&request) => Ok(recorded),
        Recorded::Existing(_) => Err(Error::KeyReused(request.purchase_id)),
    }
}

fn approved_event(a: &Approved) -> Event {
    let event = pb::PaymentApproved {
        purchase_id: a.purchase_id.clone(),
        customer_id: a.customer_id.clone(),
        amount: a.amount.get(),
        free_vod: a.free_vod,
    };
    Event::new(CONTEXT, &event, &a.purchase_id, 1, &a.purchase_id)
}
