//! Message's event policy: a notice per confirmed or cancelled reservation, written once
//! (the domain keys it by reservation and kind).
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::{Kind, Notice};
use crate::store;

pub struct Notify;

#[async_trait::async_trait]
impl On<pb::ReservationConfirmed> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationConfirmed,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        send(
            tx,
            Notice::of(Kind::Confirmed, &e.rsv_id, &e.customer_id, &e.movie_id),
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<pb::ReservationCancelled> for Notify {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationCancelled,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        send(
            tx,
            Notice::of(Kind::Cancelled, &e.rsv_id, &e.customer_id, &e.movie_id),
        )
        .await
    }
}

async fn send(tx: &mut Tx, notice: Notice) -> Result<(), HandlerError> {
    if store::insert(tx, &notice).await? {
        // The seed's "send" is a log line until a real sink is configured.
        let kind = notice.kind().as_str();
        tracing::info!(rsv_id = %notice.rsv_id(), kind, "reservation message");
    }
    Ok(())
}
