//! The upload saga's synchronous half: record the content, ask copyright to approve it
//! through the breaker (the content id is the idempotency key), then settle: APPROVED, or
//! FAILED with `ContentUploadFailed` so an approval that went through after all is released.
use mediamesh_mesh::error::internal;
use mediamesh_mesh::{Event, Peer, Store};
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

    /// Uploads `content` (the original's creator named for covers); answers it APPROVED.
    pub async fn upload(
        &self,
        mut content: Content,
        original_creator: String,
    ) -> Result<Content, Status> {
        // While copyright's breaker is open, answer "come back later" before recording.
        self.copyright.check()?;
        let recorded = content.clone();
        let inserted = self
            .store
            .write(move |tx| Box::pin(async move { store::insert(tx, &recorded).await }))
            .await
            .map_err(internal)?;
        if !inserted {
            return Err(Status::already_exists(format!(
                "content {:?} already exists",
                content.id
            )));
        }
        let request = pb::ApproveCopyrightRequest {
            content_id: content.id.clone(),
            creator_name: content.creator_name.clone(),
            title: content.title.clone(),
            r#type: content.kind.clone(),
            original_content_id: content.original_content_id.clone(),
            original_creator_name: original_creator,
        };
        let approved = self
            .copyright
            .call(true, |channel| {
                let request = self.copyright.request(request.clone());
                async move {
                    CopyrightServiceClient::new(channel)
                        .approve_copyright(request)
                        .await
                }
            })
            .await;
        let outcome = match approved {
            Ok(copyright) if copyright.status == "APPROVED" => Ok(()),
            Ok(copyright) => Err(Status::failed_precondition(format!(
                "copyright is {}",
                copyright.status
            ))),
            Err(status) => Err(status),
        };
        let id = content.id.clone();
        let failed = pb::ContentUploadFailed {
            content_id: id.clone(),
            creator_name: content.creator_name.clone(),
        };
        let event = Event::new("music.content", &failed, &id, 2, &id);
        let ok = outcome.is_ok();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if ok {
                        store::transition(
                            tx,
                            &id,
                            &[ContentStatus::Uploaded],
                            ContentStatus::Approved,
                        )
                        .await?;
                    } else if store::transition(
                        tx,
                        &id,
                        &[ContentStatus::Uploaded],
                        ContentStatus::Failed,
                    )
                    .await?
                    {
                        tx.raise(event).await?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(internal)?;
        outcome?;
        content.status = ContentStatus::Approved;
        Ok(content)
    }
}
