//! Review's event policy: its replica of the movies follows movie events in movie version
//! order, whatever the delivery order.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx};
use mediamesh_proto::cinema::v1 as pb;

use crate::store;

pub struct Replicate;

#[async_trait::async_trait]
impl Handler for Replicate {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let version = event.aggregate_version();
        match event.name() {
            "MovieRegistered" => {
                let e: pb::MovieRegistered = event.decode()?;
                store::apply_movie(tx, &e.movie_id, version).await?;
            }
            "MovieUpdated" => {
                let e: pb::MovieUpdated = event.decode()?;
                store::apply_movie(tx, &e.movie_id, version).await?;
            }
            "MovieDeleted" => {
                let e: pb::MovieDeleted = event.decode()?;
                store::delete_movie(tx, &e.movie_id, version).await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
