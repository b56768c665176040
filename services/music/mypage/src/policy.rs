//! The mypage projection: each event moves its content's page one step on.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, HandlerError, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::domain::{Progress, Step};
use crate::store;

pub struct Project;

#[async_trait::async_trait]
impl On<pb::CopyrightApproved> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CopyrightApproved,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let (progress, cover) = Progress::approved(
            &e.content_id,
            &e.creator_name,
            &e.title,
            &e.original_content_id,
        );
        store::advance(tx, &progress).await?;
        if let Some(cover) = cover {
            // The original's creator is told: the cover shows on their page.
            tracing::info!(original = %cover.original_content_id, creator = %e.original_creator_name, cover = %cover.cover_content_id, "your work was covered");
            store::add_cover(tx, &cover).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::SourceRegistered> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::SourceRegistered,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let progress = Progress::new(&e.content_id, &e.creator_name, &e.title, Step::Registered);
        Ok(store::advance(tx, &progress).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::ContentDeleted> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ContentDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let progress = Progress::new(&e.content_id, &e.creator_name, "", Step::Deleted);
        Ok(store::advance(tx, &progress).await?)
    }
}

#[async_trait::async_trait]
impl On<pb::CopyrightReleased> for Project {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CopyrightReleased,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let progress = Progress::new(&e.content_id, &e.creator_name, "", Step::Released);
        Ok(store::advance(tx, &progress).await?)
    }
}
