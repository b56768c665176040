//! Reservation's event policies: keep the seat ledger in step with the movies (in movie
//! version order, whatever the delivery order), and close a cancelling reservation once its
//! payment is cancelled (the end of the cancel saga).
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Raise, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::events::event;
use crate::store;

pub struct Follow;

#[async_trait::async_trait]
impl On<pb::MovieRegistered> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieRegistered,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        store::apply_movie(tx, &e.movie_id, e.seats.into(), d.aggregate_version()).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::MovieUpdated> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieUpdated,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        store::apply_movie(tx, &e.movie_id, e.seats.into(), d.aggregate_version()).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::MovieDeleted> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        store::delete_movie(tx, &e.movie_id, d.aggregate_version()).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::PaymentCancelled> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::PaymentCancelled,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let Some(mut r) = store::get_in(tx, &e.rsv_id).await? else {
            return Ok(()); // not ours (never recorded)
        };
        // A failed reservation's payment: its seat already went back.
        let Some(closed) = r.close() else {
            return Ok(());
        };
        if !store::update_status(tx, &r).await? {
            return Err(HandlerError::Transient(format!(
                "reservation {} changed meanwhile",
                e.rsv_id
            )));
        }
        store::release_seat(tx, r.movie_id()).await?;
        tx.raise(event(&closed)).await?;
        Ok(())
    }
}
