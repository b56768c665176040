//! The contract events a reservation's changes are published as.
use mediamesh_mesh::Event;
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::{Change, ChangeKind};

pub const CONTEXT: &str = "cinema.reservation";

pub fn event(c: &Change) -> Event {
    let (rsv_id, movie_id, customer_id) =
        (c.rsv_id.clone(), c.movie_id.clone(), c.customer_id.clone());
    let id = &c.rsv_id;
    match c.kind {
        ChangeKind::Confirmed => {
            let e = pb::ReservationConfirmed {
                rsv_id,
                movie_id,
                customer_id,
                amount: c.amount.get(),
            };
            Event::new(CONTEXT, &e, id, c.version, id)
        }
        ChangeKind::Failed => {
            let e = pb::ReservationFailed {
                rsv_id,
                movie_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, c.version, id)
        }
        ChangeKind::CancelRequested => {
            let e = pb::ReservationCancelRequested {
                rsv_id,
                movie_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, c.version, id)
        }
        ChangeKind::Cancelled => {
            let e = pb::ReservationCancelled {
                rsv_id,
                movie_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, c.version, id)
        }
    }
}
