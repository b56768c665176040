//! The contract events the desk's changes are published as.
use mediamesh_mesh::Event;
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::{Assignment, Raised};

pub const CONTEXT: &str = "iptv.assignment";

pub fn event(a: &Assignment, raised: Raised) -> Event {
    let id = a.id();
    let (join_order_id, customer_id) = (id.to_owned(), a.order().customer_id.clone());
    match raised {
        Raised::Assigned(version) => {
            let e = pb::InstallerAssigned {
                join_order_id,
                customer_id,
                installer_id: a.installer_id().to_owned(),
                address: a.order().address.clone(),
                product: a.order().product.clone(),
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::Completed(version) => {
            let e = pb::SubscriptionCompleted {
                join_order_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::CancelAccepted(version) => {
            let e = pb::CancellationAccepted {
                join_order_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::CancelRejected(version) => {
            let e = pb::CancellationRejected {
                join_order_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
    }
}
