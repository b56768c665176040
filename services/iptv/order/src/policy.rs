//! Order follows the desk and the installer: each event moves the order forward (never
//! back, whatever the delivery order) or answers its cancellation, once.
use mediamesh_mesh::{HandlerError, Tx};
use mediamesh_proto::iptv::v1 as pb;

use crate::domain::{JoinOrder, Status};
use crate::store;

pub struct Follow;

/// Applies `change` to the order; an order this context never recorded is not ours.
async fn change(
    tx: &mut Tx,
    id: &str,
    change: impl FnOnce(&mut JoinOrder) -> bool,
) -> Result<(), HandlerError> {
    let Some(mut order) = store::get_in(tx, id).await? else {
        return Ok(());
    };
    let read_at = order.version();
    if change(&mut order) && !store::save(tx, &order, read_at).await? {
        return Err(HandlerError::Transient(format!(
            "join order {id} changed meanwhile"
        )));
    }
    Ok(())
}

mediamesh_mesh::on_events! { Follow:
    pb::InstallerAssigned |tx, e, _v| change(tx, &e.join_order_id, |o| o.advance(Status::Assigned));
    pb::InstallationCompleted |tx, e, _v|
        change(tx, &e.join_order_id, |o| o.advance(Status::Installed));
    pb::SubscriptionCompleted |tx, e, _v|
        change(tx, &e.join_order_id, |o| o.advance(Status::Joined));
    pb::CancellationAccepted |tx, e, _v| change(tx, &e.join_order_id, JoinOrder::cancelled);
    pb::CancellationRejected |tx, e, _v| change(tx, &e.join_order_id, JoinOrder::cancel_rejected);
}
