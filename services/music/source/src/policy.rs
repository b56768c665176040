//! Source's event policies: an approved copyright registers the sound source (and says so);
//! a released copyright releases it.
use mediamesh_mesh::events::policy::On;
use mediamesh_mesh::{Delivered, Event, HandlerError, Raise, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::domain::{Registered, Source};
use crate::store;

const CONTEXT: &str = "music.source";

pub struct Register;

#[async_trait::async_trait]
impl On<pb::CopyrightApproved> for Register {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CopyrightApproved,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        let id = uuid::Uuid::now_v7().to_string();
        let (source, registered) =
            Source::register(id, e.content_id.clone(), e.creator_name, e.title.clone());
        // Insert first, then look: a release inserted meanwhile (or an earlier copy of this
        // approval) holds the content's row, and this approval only brings its title.
        if store::insert(tx, &source).await? {
            tx.raise(registered_event(&registered)).await?;
            return Ok(());
        }
        if let Some(mut recorded) = store::lock(tx, &e.content_id).await?
            && recorded.approved_again(&e.title)
        {
            store::save(tx, &recorded).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<pb::CopyrightReleased> for Register {
    async fn on(
        &self,
        tx: &mut Tx,
        e: pb::CopyrightReleased,
        _: &Delivered,
    ) -> Result<(), HandlerError> {
        // Insert first, then update: a release that arrives before the approval (or while
        // its registration is not yet committed) leaves a released source the registration
        // then finds, instead of updating nothing and letting it register.
        let id = uuid::Uuid::now_v7().to_string();
        let early = Source::released_early(id, e.content_id.clone(), e.creator_name);
        if store::insert(tx, &early).await? {
            return Ok(());
        }
        if let Some(mut recorded) = store::lock(tx, &e.content_id).await?
            && recorded.release()
        {
            store::save(tx, &recorded).await?;
        }
        Ok(())
    }
}

fn registered_event(r: &Registered) -> Event {
    let event = pb::SourceRegistered {
        source_id: r.source_id.clone(),
        content_id: r.content_id.clone(),
        creator_name: r.creator_name.clone(),
        title: r.title.clone(),
    };
    Event::new(CONTEXT, &event, &r.content_id, 1, &r.content_id)
}
