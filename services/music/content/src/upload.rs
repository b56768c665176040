//! The upload saga's synchronous half (`SyncSaga`): record the content UPLOADED, ask
//! copyright to approve it through the breaker (the content id is the idempotency key), then
//! settle: APPROVED, or FAILED with `ContentUploadFailed` so an approval that went through
//! after all is released. An upload a crash left UPLOADED is settled by the recovery sweep.
use mediamesh_mesh::calls::saga::{SyncSaga, complete, precheck, settled};
use mediamesh_mesh::{CallError, Event, Peer, Raise, Retry, Store};
use mediamesh_proto::music::v1 as pb;
use mediamesh_proto::music::v1::copyright_service_client::CopyrightServiceClient;

use crate::domain::{Content, Status, UploadFailed};
use crate::error::Error;
use crate::store;

pub const CONTEXT: &str = "music.content";

#[derive(Clone)]
pub struct Upload {
    store: Store,
    copyright: Peer,
}

/// An upload recorded and waiting for copyright's answer.
pub struct Pending {
    content: Content,
    /// A cover's request names the original's creator, who is told.
    original_creator_name: String,
}

impl Upload {
    pub fn new(store: Store, copyright: Peer) -> Upload {
        Upload { store, copyright }
    }

    /// Uploads `content`; answers it APPROVED, or an error (never registered unapproved).
    /// `original_creator_name`: the creator of the original a cover names.
    ///
    /// Runs detached from the caller: a client whose deadline expires (or whose stream is
    /// reset) drops the request future, and an upload dropped between recording and settling
    /// would stay UPLOADED until the recovery sweep settled it seconds later, behind the back
    /// of a client told it failed. Spawned, it settles at once either way; the copyright call
    /// then uses its own timeout, not the departed caller's deadline.
    pub async fn upload(
        &self,
        content: Content,
        original_creator_name: String,
    ) -> Result<Content, Error> {
        let upload = self.clone();
        let run = async move { upload.run(content, original_creator_name).await };
        mediamesh_mesh::calls::saga::detached(run)
            .await
            .map_err(|e| Error::Interrupted(e.to_string()))?
    }

    async fn run(&self, content: Content, original_creator_name: String) -> Result<Content, Error> {
        precheck(self)?;
        let recorded = content.clone();
        let inserted = self
            .store
            .write(move |tx| {
                let recorded = recorded.clone();
                Box::pin(async move { store::insert(tx, &recorded).await })
            })
            .await?;
        if !inserted {
            return self.replay(&content).await;
        }
        let pending = Pending {
            content,
            original_creator_name,
        };
        complete(self, pending).await
    }

    /// A create under an id already taken (AIP-155): the same request again (a client
    /// retrying after a lost answer) is answered what the first one came to, as it is now,
    /// without asking copyright twice; another request under that id is refused.
    async fn replay(&self, retry: &Content) -> Result<Content, Error> {
        let id = retry.id().to_owned();
        let existing = match store::get(&self.store, &id).await? {
            Some(existing) if existing.same_request(retry) => existing,
            _ => return Err(Error::Exists(id)),
        };
        // A copy sent while the first waits for copyright answers what the first comes to.
        let is_pending = |c: &Content| c.status() == Status::Uploaded;
        let look = || store::get(&self.store, &id);
        let recorded = existing.details().create_time.clone();
        answer(settled(&self.copyright, existing, &recorded, is_pending, look).await?)
    }

    /// A content as recorded: an answer when APPROVED or further, else why not.
    async fn recorded(&self, id: &str) -> Result<Content, Error> {
        let content = store::get(&self.store, id).await?;
        answer(content.ok_or(sqlx::Error::RowNotFound)?)
    }
}

/// What a create is answered for a content recorded before it.
fn answer(content: Content) -> Result<Content, Error> {
    match content.status() {
        Status::Failed => Err(Error::UploadFailed),
        _ => Ok(content),
    }
}

fn failed_event(failed: &UploadFailed) -> Event {
    let event = pb::ContentUploadFailed {
        content_id: failed.content_id.clone(),
        creator_name: failed.creator_name.clone(),
    };
    let id = &failed.content_id;
    Event::new(CONTEXT, &event, id, 2, id)
}

#[async_trait::async_trait]
impl SyncSaga for Upload {
    type Pending = Pending;
    type Answer = pb::Copyright;
    type Settled = Content;
    type Error = Error;

    fn peer(&self) -> &Peer {
        &self.copyright
    }

    /// Idempotent (the content id is the key), so the client stack may retry it.
    async fn ask(&self, pending: &Pending) -> Result<pb::Copyright, CallError> {
        let c = pending.content.details();
        let request = pb::ApproveCopyrightRequest {
            content_id: c.id.clone(),
            creator_name: c.creator_name.clone(),
            title: c.title.clone(),
            r#type: c.kind.clone(),
            original_content_id: c.original_content_id.clone(),
            original_creator_name: pending.original_creator_name.clone(),
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
    }

    async fn settle(
        &self,
        pending: Pending,
        answer: Result<pb::Copyright, CallError>,
    ) -> Result<Content, Error> {
        let mut content = pending.content;
        let outcome = match answer {
            Ok(copyright) if copyright.status == "APPROVED" => Ok(()),
            Ok(copyright) => Err(Error::NotApproved(copyright.status)),
            Err(error) => Err(Error::from(error)),
        };
        let id = content.id().to_owned();
        let settle = match &outcome {
            Ok(()) => {
                content.approve();
                None
            }
            // ALREADY_EXISTS: the id's approval belongs to another request: not ours to
            // release, so nothing is raised.
            Err(error) => Some(content.fail().filter(|_| !error.key_taken())),
        };
        let settled = self
            .store
            .write(move |tx| {
                let (settle, id) = (settle.clone(), id.clone());
                Box::pin(async move {
                    let Some(failed) = settle else {
                        return store::approved(tx, &id).await;
                    };
                    let uploaded = [Status::Uploaded];
                    let moved = store::transition(tx, &id, &uploaded, Status::Failed).await?;
                    if let (true, Some(failed)) = (moved, failed) {
                        tx.raise(failed_event(&failed)).await?;
                    }
                    Ok(moved)
                })
            })
            .await?;
        if !settled {
            // Settled meanwhile by the other side (the recovery sweep): answer that.
            return self.recorded(content.id()).await;
        }
        // The upload answers its approval; registration follows (perhaps already has).
        outcome.map(|()| content)
    }

    async fn pending_before(&self, cutoff: &str) -> Result<Vec<Pending>, sqlx::Error> {
        let mut pending = Vec::new();
        for content in store::uploaded_before(&self.store, cutoff).await? {
            let original_creator_name = self.original_creator(&content).await?;
            pending.push(Pending {
                content,
                original_creator_name,
            });
        }
        Ok(pending)
    }
}

impl Upload {
    /// The creator of the original `content` names (empty for none or a vanished one).
    pub async fn original_creator(&self, content: &Content) -> Result<String, sqlx::Error> {
        if !content.names_original() {
            return Ok(String::new());
        }
        let original = store::get(&self.store, &content.details().original_content_id).await?;
        Ok(original
            .map(|o| o.details().creator_name.clone())
            .unwrap_or_default())
    }
}
