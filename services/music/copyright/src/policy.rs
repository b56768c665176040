//! Copyright's event policies: a deleted content releases its copyright (the compensation of
//! the seed's saga); an abandoned upload releases an approval that went through after all.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx, input};
use mediamesh_proto::music::v1 as pb;

use crate::approve::CONTEXT;
use crate::domain::{Copyright, Released};
use crate::store;

pub struct Release;

#[async_trait::async_trait]
impl On<pb::ContentDeleted> for Release {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ContentDeleted,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let released = release(tx, &e.content_id, &e.creator_name).await?;
        // The deleting creator always hears back (the content's status moves on with it).
        let released = released.unwrap_or(Released {
            content_id: e.content_id,
            creator_name: e.creator_name,
        });
        raise(tx, &released).await
    }
}

#[async_trait::async_trait]
impl On<pb::ContentUploadFailed> for Release {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::ContentUploadFailed,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        match release(tx, &e.content_id, &e.creator_name).await? {
            Some(released) => raise(tx, &released).await,
            None => Ok(()),
        }
    }
}

/// Voids the content's key, or releases its approval and says what was released.
async fn release(
    tx: &mut Tx,
    content_id: &str,
    creator_name: &str,
) -> Result<Option<Released>, HandlerError> {
    if !input::is_id(content_id) {
        return Err(HandlerError::Poison("content_id breaks the id rule".into()));
    }
    // Insert the void first, then release: under READ COMMITTED an approval committing
    // meanwhile is either seen by the release (the void's insert waited for it and did
    // nothing) or finds the void and answers RELEASED. Releasing first could miss an
    // approval not yet committed and then void nothing, and the approval would escape.
    if Copyright::void(content_id.to_owned(), creator_name.to_owned())
        .insert(tx)
        .await?
    {
        return Ok(None);
    }
    let Some(mut copyright) = store::lock(tx, content_id).await? else {
        return Ok(None);
    };
    let released = copyright.release();
    if released.is_some() {
        store::save(tx, &copyright).await?;
    }
    Ok(released)
}

async fn raise(tx: &mut Tx, r: &Released) -> Result<(), HandlerError> {
    let event = pb::CopyrightReleased {
        content_id: r.content_id.clone(),
        creator_name: r.creator_name.clone(),
    };
    let id = &r.content_id;
    tx.raise(Event::new(CONTEXT, &event, id, 2, id)).await?;
    Ok(())
}
