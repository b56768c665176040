//! Source's event policies: an approved copyright registers the sound source (and says so);
//! a released copyright releases it.
use mediamesh_mesh::{Delivered, Event, Handler, HandlerError, Raise, Tx};
use mediamesh_proto::music::v1 as pb;

use crate::store;

pub struct Register;

#[async_trait::async_trait]
impl Handler for Register {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
        match event.name() {
            "CopyrightApproved" => {
                let e: pb::CopyrightApproved = event.decode()?;
                let source = pb::Source {
                    source_id: uuid::Uuid::now_v7().to_string(),
                    content_id: e.content_id.clone(),
                    creator_name: e.creator_name.clone(),
                    title: e.title.clone(),
                    status: "REGISTERED".into(),
                };
                if store::register(tx, &source).await? {
                    let registered = pb::SourceRegistered {
                        source_id: source.source_id,
                        content_id: e.content_id.clone(),
                        creator_name: e.creator_name,
                        title: e.title,
                    };
                    tx.raise(Event::new(
                        "music.source",
                        &registered,
                        &e.content_id,
                        1,
                        &e.content_id,
                    ))
                    .await?;
                }
            }
            "CopyrightReleased" => {
                let e: pb::CopyrightReleased = event.decode()?;
                store::release(tx, &e.content_id, &e.creator_name).await?;
            }
            other => return Err(HandlerError::Poison(format!("unexpected event {other}"))),
        }
        Ok(())
    }
}
