//! The contract events an installation's changes are published as.
use mediamesh_mesh::Event;
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::{Installation, Raised};

pub const CONTEXT: &str = "iptv.installation";

pub fn event(i: &Installation, raised: Raised) -> Event {
    let id = i.id();
    let (join_order_id, customer_id, installer_id) = (
        id.to_owned(),
        i.work().customer_id.clone(),
        i.work().installer_id.clone(),
    );
    match raised {
        Raised::Accepted(version) => {
            let e = pb::InstallationAccepted {
                join_order_id,
                customer_id,
                installer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::Completed(version) => {
            let e = pb::InstallationCompleted {
                join_order_id,
                customer_id,
                installer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
        Raised::Withdrawn(version) => {
            let e = pb::InstallationWithdrawn {
                join_order_id,
                customer_id,
            };
            Event::new(CONTEXT, &e, id, version, id)
        }
    }
}
