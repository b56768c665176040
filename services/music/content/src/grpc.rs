//! gRPC inbound adapter of content: parses requests at the edge, answers in contract types.
use mediamesh_mesh::input::{self, NAME_MAX, TEXT_MAX};
use mediamesh_mesh::serving::auth::{self, Caller};
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{Content, Deleted, Details, LIVE, Status as ContentStatus};
use crate::error::Error;
use crate::store;
use crate::upload::{CONTEXT, Upload};

pub struct ContentApi {
    store: Store,
    upload: Upload,
}

impl ContentApi {
    pub fn new(store: Store, upload: Upload) -> ContentApi {
        ContentApi { store, upload }
    }

    async fn load(&self, id: &str) -> Result<Content, Error> {
        let id = input::id("content_id", id)?;
        store::get(&self.store, &id)
            .await?
            .ok_or(Error::NotFound(id))
    }

    async fn create(&self, r: pb::CreateContentRequest) -> Result<Content, Error> {
        let content = Content::upload(details(r)?)?;
        // A cover names a registered original. Checked before recording, so a refused cover
        // leaves nothing behind; an original deleted after this check is as if deleted after
        // the cover was recorded (the cover reads the original, the delete never the cover).
        if content.names_original() {
            let original = store::get(&self.store, &content.details().original_content_id).await?;
            content.check_original(original.as_ref())?;
        }
        let original_creator = self.upload.original_creator(&content).await?;
        self.upload.upload(content, original_creator).await
    }

    /// Deleting starts the release saga: DELETED plus `ContentDeleted`; copyright releases and
    /// the status moves on to RELEASED. Deleting again answers the content as it is.
    async fn delete(&self, caller: Option<&Caller>, id: &str) -> Result<Content, Status> {
        let content = self.load(id).await?;
        auth::check(caller, |c| {
            access::may_delete(c, &content.details().creator_name)
        })?;
        Ok(self.delete_loaded(content).await?)
    }

    async fn delete_loaded(&self, mut content: Content) -> Result<Content, Error> {
        let Some(deleted) = content.delete()? else {
            return Ok(content);
        };
        let event = deleted_event(&deleted);
        let id = deleted.content_id;
        let moved = self
            .store
            .write(move |tx| {
                let (id, event) = (id.clone(), event.clone());
                Box::pin(async move {
                    // Conditional: a content that moved on meanwhile is not deleted twice.
                    let moved = store::transition(tx, &id, &LIVE, ContentStatus::Deleted).await?;
                    if moved {
                        tx.raise(event).await?;
                    }
                    Ok(moved)
                })
            })
            .await?;
        if !moved {
            return Err(Error::Changed);
        }
        Ok(content)
    }
}

fn deleted_event(d: &Deleted) -> Event {
    let event = pb::ContentDeleted {
        content_id: d.content_id.clone(),
        creator_name: d.creator_name.clone(),
    };
    Event::new(CONTEXT, &event, &d.content_id, 3, &d.content_id)
}

/// Every field of an upload in shape, in the order a client reads its form.
fn details(r: pb::CreateContentRequest) -> Result<Details, Error> {
    let id = input::optional_id("content_id", &r.content_id)?
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    Ok(Details {
        id,
        creator_name: input::required_text("creator_name", &r.creator_name, NAME_MAX)?,
        title: input::required_text("title", &r.title, NAME_MAX)?,
        kind: input::text("type", &r.r#type, NAME_MAX)?,
        description: input::text("description", &r.description, TEXT_MAX)?,
        original_content_id: input::optional_id("original_content_id", &r.original_content_id)?
            .unwrap_or_default(),
        create_time: mediamesh_mesh::observe::telemetry::now_rfc3339(),
    })
}

fn to_pb(content: Content) -> pb::Content {
    let status = content.status().as_str().to_owned();
    let c = content.details().clone();
    pb::Content {
        content_id: c.id,
        creator_name: c.creator_name,
        title: c.title,
        r#type: c.kind,
        description: c.description,
        original_content_id: c.original_content_id,
        status,
        create_time: c.create_time,
    }
}

#[tonic::async_trait]
impl pb::content_service_server::ContentService for ContentApi {
    async fn create_content(
        &self,
        request: Request<pb::CreateContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.creator_name = access::creator(caller, &r.creator_name)?;
        }
        Ok(Response::new(to_pb(self.create(r).await?)))
    }

    async fn get_content(
        &self,
        request: Request<pb::GetContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        let content = self.load(&request.into_inner().content_id).await?;
        Ok(Response::new(to_pb(content)))
    }

    async fn list_contents(
        &self,
        request: Request<pb::ListContentsRequest>,
    ) -> Result<Response<pb::ListContentsResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let creator = input::text("creator_name", &r.creator_name, NAME_MAX)?;
        let rows = store::list(&self.store, &page, &creator)
            .await
            .map_err(Error::from)?;
        let (contents, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListContentsResponse {
            contents: contents.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn delete_content(
        &self,
        request: Request<pb::DeleteContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        let caller = auth::caller(&request).cloned();
        let content = self
            .delete(caller.as_ref(), &request.into_inner().content_id)
            .await?;
        Ok(Response::new(to_pb(content)))
    }
}
