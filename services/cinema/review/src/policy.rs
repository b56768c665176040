//! Review's event policy: its replica of the movies follows movie events in movie version
//! order, whatever the delivery order (the rules are the domain's).
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::ReplicaMovie;
use crate::store;

pub struct Replicate;

async fn changed(tx: &mut Tx, movie_id: &str, version: i64) -> Result<(), HandlerError> {
    match store::lock_movie(tx, movie_id).await? {
        None => store::save_movie(tx, &ReplicaMovie::changed(movie_id, version)).await?,
        Some(mut m) => {
            if m.change(version) {
                store::save_movie(tx, &m).await?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl On<pb::MovieRegistered> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieRegistered,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        changed(tx, &e.movie_id, d.aggregate_version()).await
    }
}

#[async_trait::async_trait]
impl On<pb::MovieUpdated> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieUpdated,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        changed(tx, &e.movie_id, d.aggregate_version()).await
    }
}

#[async_trait::async_trait]
impl On<pb::MovieDeleted> for Replicate {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::MovieDeleted,
        d: &Delivered,
    ) -> Result<(), HandlerError> {
        let version = d.aggregate_version();
        match store::lock_movie(tx, &e.movie_id).await? {
            None => store::save_movie(tx, &ReplicaMovie::deleted(&e.movie_id, version)).await?,
            Some(mut m) => {
                if m.delete(version) {
                    store::save_movie(tx, &m).await?;
                }
            }
        }
        Ok(())
    }
}
