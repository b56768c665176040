//! The contract events an order's changes are published as.
use mediamesh_mesh::Event;
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::{JoinOrder, Raised};

pub const CONTEXT: &str = "iptv.order";

pub fn event(o: &JoinOrder, raised: &Raised) -> Event {
    let a = o.application();
    let id = o.id();
    match *raised {
        Raised::Requested(version) => {
            let e = pb::JoinOrderRequested {
                join_order_id: id.to_owned(),
                customer_id: a.customer_id.clone(),
                customer_name: a.customer_name.clone(),
                address: a.address.clone(),
                region: a.region.clone(),
                product: a.product.as_str().to_owned(),
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::CancelRequested(version) => {
            let e = pb::JoinOrderCancelRequested {
                join_order_id: id.to_owned(),
                customer_id: a.customer_id.clone(),
                address: a.address.clone(),
                region: a.region.clone(),
                product: a.product.as_str().to_owned(),
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
    }
}
