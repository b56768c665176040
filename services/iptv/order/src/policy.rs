//! Order follows the desk and the installer: each event moves the order forward (never
//! back, whatever the delivery order) or answers its cancellation, once.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
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

#[async_trait::async_trait]
impl On<pb::InstallerAssigned> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::InstallerAssigned,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        change(tx, &e.join_order_id, |o| o.advance(Status::Assigned)).await
    }
}

#[async_trait::async_trait]
impl On<pb::InstallationCompleted> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::InstallationCompleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        change(tx, &e.join_order_id, |o| o.advance(Status::Installed)).await
    }
}

#[async_trait::async_trait]
impl On<pb::SubscriptionCompleted> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::SubscriptionCompleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        change(tx, &e.join_order_id, |o| o.advance(Status::Joined)).await
    }
}

#[async_trait::async_trait]
impl On<pb::CancellationAccepted> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CancellationAccepted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        change(tx, &e.join_order_id, JoinOrder::cancelled).await
    }
}

#[async_trait::async_trait]
impl On<pb::CancellationRejected> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CancellationRejected,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        change(tx, &e.join_order_id, JoinOrder::cancel_rejected).await
    }
}
