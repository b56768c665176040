//! Paying for a reservation: approve, record under the reservation id with its
//! `PaymentApproved` (insert, else answer what is recorded), and answer the caller only with
//! a payment that is the answer to its own request.
use mediamesh_mesh::events::once::{Recorded, record_once};
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::{Approved, PayRequest, Payment};
use crate::error::Error;

pub const CONTEXT: &str = "cinema.payment";

pub async fn pay(store: &Store, request: PayRequest) -> Result<Payment, Error> {
    let (payment, approved) = Payment::approve(request.clone());
    match record_once(store, payment, vec![approved_event(&approved)]).await? {
        Recorded::New(payment) => Ok(payment),
        Recorded::Existing(recorded) if recorded.answers(&request) => Ok(recorded),
        Recorded::Existing(_) => Err(Error::KeyReused(request.rsv_id)),
    }
}

fn approved_event(a: &Approved) -> Event {
    let event = pb::PaymentApproved {
        rsv_id: a.rsv_id.clone(),
        movie_id: a.movie_id.clone(),
        amount: a.amount.get(),
    };
    Event::new(CONTEXT, &event, &a.rsv_id, 1, &a.rsv_id)
}
