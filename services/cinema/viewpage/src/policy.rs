//! The viewpage's projection: every event it subscribes to, applied to its own tables by the
//! domain's rules (movie and reservation events in their aggregate's version order, whatever
//! the delivery order; review counts once per review id).
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx, events::tally};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::RsvStatus;
use crate::store;

pub struct Project;

#[async_trait::async_trait]
impl On<pb::MovieRegistered> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieRegistered,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, version)).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::MovieUpdated> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieUpdated,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        store::change_movie(tx, &e.movie_id, |m| m.change(&e.title, e.seats, version)).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::MovieDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        store::change_movie(tx, &e.movie_id, |m| {
            m.delete(version);
            true
        })
        .await?;
        Ok(())
    }
}

async fn reservation(
    tx: &mut Tx,
    rsv_id: &str,
    movie_id: &str,
    status: RsvStatus,
    d: &Delivered,
) -> Result<(), HandlerError> {
    store::set_reservation(tx, rsv_id, movie_id, status, d.aggregate_version()).await?;
    Ok(())
}

#[async_trait::async_trait]
impl On<pb::ReservationConfirmed> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationConfirmed,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Confirmed, d).await
    }
}

#[async_trait::async_trait]
impl On<pb::ReservationCancelRequested> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationCancelRequested,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelling, d).await
    }
}

#[async_trait::async_trait]
impl On<pb::ReservationCancelled> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReservationCancelled,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        reservation(tx, &e.rsv_id, &e.movie_id, RsvStatus::Cancelled, d).await
    }
}

#[async_trait::async_trait]
impl On<pb::ReviewCreated> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReviewCreated,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::add(tx, "reviews", &e.review_id).await? {
            store::change_movie(tx, &e.movie_id, |m| {
                m.add_reviews(1);
                true
            })
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::ReviewDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ReviewDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        if tally::remove(tx, "reviews", &e.review_id).await? {
            store::change_movie(tx, &e.movie_id, |m| {
                m.add_reviews(-1);
                true
            })
            .await?;
        }
        Ok(())
    }
}
