//! The mypage projection: each event moves its content one step on.
use mediamesh_mesh::{Delivered, Handler, HandlerError, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::store;

pub struct Project;

#[async_trait::async_trait]
impl Handler for Project {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "CopyrightApproved" => {
                let e: pb::CopyrightApproved = event.decode()?;
                store::advance(tx, &e.content_id, &e.creator_name, &e.title, "APPROVED").await?;
                if !e.original_content_id.is_empty() {
                    // The original's creator is told: the cover shows on their page.
                    tracing::info!(original = %e.original_content_id, creator = %e.original_creator_name, cover = %e.content_id, "your work was covered");
                    store::add_cover(tx, &e.original_content_id, &e.content_id).await?;
                }
            }
            "SourceRegistered" => {
                let e: pb::SourceRegistered = event.decode()?;
                store::advance(tx, &e.content_id, &e.creator_name, &e.title, "REGISTERED").await?;
            }
            "ContentDeleted" => {
                let e: pb::ContentDeleted = event.decode()?;
                store::advance(tx, &e.content_id, &e.creator_name, "", "DELETED").await?;
            }
            "CopyrightReleased" => {
                let e: pb::CopyrightReleased = event.decode()?;
                store::advance(tx, &e.content_id, &e.creator_name, "", "RELEASED").await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
