//! Content's event policies: its status follows the source's registration and the
//! copyright's release.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::domain::Status;
use crate::store;

pub struct Follow;

#[async_trait::async_trait]
impl On<pb::SourceRegistered> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::SourceRegistered,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        store::source_registered(tx, &e.content_id).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::CopyrightReleased> for Follow {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CopyrightReleased,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // Only a deleted content is released: an abandoned upload stays FAILED.
        store::transition(tx, &e.content_id, &[Status::Deleted], Status::Released).await?;
        Ok(())
    }
}
