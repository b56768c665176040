//! Approving a content's copyright: approve by the rules, record it under the content id
//! with its `CopyrightApproved` (insert, else answer what is recorded), and answer the caller
//! only with a copyright that is the answer to its own request.
use mediamesh_mesh::events::once::{Recorded, record_once};
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::music::v1 as pb;

use crate::domain::{Approval, Approved, Copyright};
use crate::error::Error;

pub const CONTEXT: &str = "music.copyright";

pub async fn approve(
    store: &Store,
    request: Approval,
    original_creator_name: String,
) -> Result<Copyright, Error> {
    let (copyright, approved) = request.clone().approve(original_creator_name)?;
    let event = approved_event(&approved);
    // Insert first: a concurrent approval or void of the same key waits for this one (or
    // this one for it), so exactly one record is made and the other reads it.
    match record_once(store, copyright, vec![event]).await? {
        Recorded::New(copyright) => Ok(copyright),
        Recorded::Existing(recorded) => Ok(request.answer(recorded)?),
    }
}

fn approved_event(a: &Approved) -> Event {
    let r = &a.approval;
    let event = pb::CopyrightApproved {
        content_id: r.content_id.clone(),
        creator_name: r.creator_name.clone(),
        title: r.title.clone(),
        r#type: r.kind.clone(),
        original_content_id: r.original_content_id.clone(),
        original_creator_name: a.original_creator_name.clone(),
    };
    Event::new(CONTEXT, &event, &r.content_id, 1, &r.content_id)
}
