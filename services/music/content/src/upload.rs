//! The upload saga's synchronous half: record the content, ask copyright to approve it
//! through the breaker (the content id is the idempotency key), then settle: APPROVED, or
//! FAILED with `ContentUploadFailed` so an approval that went through after all is released.
//! An upload a crash left UPLOADED is settled again by the recovery sweep.
use mediamesh_mesh::calls::recovery::Abandoned;
use mediamesh_mesh::error::internal;
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::music::v1 as pb;
use mediamesh_proto::music::v1::copyright_service_client::CopyrightServiceClient;
use tonic::Status;

use crate::domain::{Content, Status as ContentStatus};
use crate::store;

#[derive(Clone)]
pub struct Upload {
    store: Store,
    copyright: Peer,
}

impl Upload {
    pub fn new(store: Store, copyright: Peer) -> Upload {
        Upload { store, copyright }
    }

    /// Uploads `content`; answers it APPROVED, or an error (never registered unapproved).
    pub async fn upload(&self, content: Content) -> Result<Content, Status> {
        // While copyright's breaker is open, answer "come back later" before recording.
        self.copyright.check()?;
        let recorded = content.clone();
        let inserted = self
            .store
            .write(move |tx| Box::pin(async move { store::insert(tx, &recorded).await }))
            .await
            .map_err(internal)?;
        if !inserted {
            // Ids are never reused, deleted ones included: a new content under a deleted
            // id would inherit its released copyright and source.
            return Err(Status::already_exists(format!(
                "content_id: content {:?} already exists (ids of deleted contents stay retired)",
                content.id
            )));
        }
        let approved = self.approve(&content).await;
        self.settle(content, approved).await
    }

    /// Asks copyright to approve; idempotent, so the client stack may retry it. A cover's
    /// request names the original's creator, who is told.
    async fn approve(&self, content: &Content) -> Result<pb::Copyright, Status> {
        let mut original_creator_name = String::new();
        if !content.original_content_id.is_empty() {
            let original = store::get(&self.store, &content.original_content_id)
                .await
                .map_err(internal)?;
            original_creator_name = original.map(|o| o.creator_name).unwrap_or_default();
        }
        let request = pb::ApproveCopyrightRequest {
            content_id: content.id.clone(),
            creator_name: content.creator_name.clone(),
            title: content.title.clone(),
            r#type: content.kind.clone(),
            original_content_id: content.original_content_id.clone(),
            original_creator_name,
        };
        self.copyright
            .call(Retry::Safe, |channel| {
                let request = self.copyright.request(request.clone());
                async move {
                    CopyrightServiceClient::new(channel)
                        .approve_copyright(request)
                        .await
                }
            })
            .await
            .map_err(Status::from)
    }

    /// Records copyright's answer on an uploaded content and answers what was recorded.
    async fn settle(
        &self,
        content: Content,
        approved: Result<pb::Copyright, Status>,
    ) -> Result<Content, Status> {
        let outcome = match approved {
            Ok(copyright) if copyright.status == "APPROVED" => Ok(()),
            Ok(copyright) => Err(Status::failed_precondition(format!(
                "copyright is {}",
                copyright.status
            ))),
            Err(error) => Err(error.into()),
        };
        // ALREADY_EXISTS: the id's approval belongs to another request, so it is not this
        // upload's to release.
        let release = !matches!(&outcome, Err(s) if s.code() == tonic::Code::AlreadyExists);
        let id = content.id.clone();
        let failed = pb::ContentUploadFailed {
            content_id: id.clone(),
            creator_name: content.creator_name.clone(),
        };
        let event = Event::new("music.content", &failed, &id, 2, &id);
        let ok = outcome.is_ok();
        let settled = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if ok {
                        return store::approved(tx, &id).await;
                    }
                    let uploaded = [ContentStatus::Uploaded];
                    let failed =
                        store::transition(tx, &id, &uploaded, ContentStatus::Failed).await?;
                    if failed && release {
                        tx.raise(event).await?;
                    }
                    Ok(failed)
                })
            })
            .await
            .map_err(internal)?;
        if !settled {
            // Settled meanwhile by the other side (the recovery sweep): answer that.
            return self.recorded(&content.id).await;
        }
        outcome?;
        // The upload answers its approval; registration follows (perhaps already has).
        Ok(Content {
            status: ContentStatus::Approved,
            ..content
        })
    }

    /// A content as recorded: an answer when APPROVED or further, else why not.
    async fn recorded(&self, id: &str) -> Result<Content, Status> {
        let content = store::get(&self.store, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::internal("internal error"))?;
        match content.status {
            ContentStatus::Failed => Err(Status::failed_precondition(
                "the copyright approval failed; upload again under a new id",
            )),
            _ => Ok(content),
        }
    }
}

#[async_trait::async_trait]
impl Abandoned for Upload {
    type Item = Content;
    type Answer = pb::Copyright;

    async fn in_flight_before(&self, cutoff: &str) -> Result<Vec<Content>, sqlx::Error> {
        store::uploaded_before(&self.store, cutoff).await
    }

    async fn ask_again(&self, item: &Content) -> Result<pb::Copyright, Status> {
        self.approve(item).await
    }

    async fn record(
        &self,
        item: Content,
        answer: Result<pb::Copyright, Status>,
    ) -> Result<(), Status> {
        self.settle(item, answer).await.map(|_| ())
    }
}
