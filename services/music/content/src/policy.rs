//! Content's event policies: its status follows the source's registration and the
//! copyright's release.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::domain::Status;
use crate::store;

pub struct Follow;

#[async_trait::async_trait]
impl Handler for Follow {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "SourceRegistered" => {
                let e: pb::SourceRegistered = event.decode()?;
                store::source_registered(tx, &e.content_id).await?;
            }
            "CopyrightReleased" => {
                let e: pb::CopyrightReleased = event.decode()?;
                store::transition(tx, &e.content_id, &[Status::Deleted], Status::Released).await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
