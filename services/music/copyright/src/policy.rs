//! Copyright's event policy: a deleted content releases its copyright (the compensation of
//! the seed's saga); an abandoned upload releases an approval that went through after all.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::domain::Copyright;
use crate::store;

pub struct Release;

#[async_trait::async_trait]
impl Handler for Release {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        let (content_id, creator_name) = match event.name() {
            "ContentDeleted" => {
                let e: pb::ContentDeleted = event.decode()?;
                (e.content_id, e.creator_name)
            }
            "ContentUploadFailed" => {
                let e: pb::ContentUploadFailed = event.decode()?;
                (e.content_id, e.creator_name)
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        };
        // Insert the void first, then release: under READ COMMITTED an approval committing
        // meanwhile is either seen by the release (the void's insert waited for it and did
        // nothing) or finds the void and answers RELEASED. Releasing first could miss an
        // approval not yet committed and then void nothing, and the approval would escape.
        let void = Copyright::void(content_id.clone(), creator_name.clone());
        let voided = store::insert(tx, &void).await?;
        let released = !voided && store::release(tx, &content_id).await?;
        // The deleting creator always hears back (the content's status moves on with it).
        if released || event.name() == "ContentDeleted" {
            let e = pb::CopyrightReleased {
                content_id: content_id.clone(),
                creator_name,
            };
            tx.raise(Event::new(
                "music.copyright",
                &e,
                &content_id,
                2,
                &content_id,
            ))
            .await?;
        }
        Ok(())
    }
}
