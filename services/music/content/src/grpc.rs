//! gRPC inbound adapter of content.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input::{self, NAME_MAX, TEXT_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{Content, ContentError, Status as ContentStatus};
use crate::store;
use crate::upload::Upload;

pub struct ContentApi {
    store: Store,
    upload: Upload,
}

impl ContentApi {
    pub fn new(store: Store, upload: Upload) -> ContentApi {
        ContentApi { store, upload }
    }

    async fn load(&self, id: &str) -> Result<Content, Status> {
        let id = input::id("content_id", id)?;
        store::get(&self.store, &id)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found("content", &id))
    }
}

fn rejected(error: ContentError) -> Status {
    invalid_argument(error.field(), error.to_string())
}

/// Every field of an upload in shape, in the order a client reads its form.
fn draft(r: pb::CreateContentRequest) -> Result<Content, Status> {
    let id = input::optional_id("content_id", &r.content_id)?
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let creator_name = input::required_text("creator_name", &r.creator_name, NAME_MAX)?;
    let title = input::required_text("title", &r.title, NAME_MAX)?;
    let kind = input::text("type", &r.r#type, NAME_MAX)?;
    let description = input::text("description", &r.description, TEXT_MAX)?;
    let original = input::optional_id("original_content_id", &r.original_content_id)?;
    let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
    Content::upload(
        id,
        creator_name,
        title,
        kind,
        description,
        original.unwrap_or_default(),
        now,
    )
    .map_err(rejected)
}

fn to_pb(c: Content) -> pb::Content {
    pb::Content {
        content_id: c.id,
        creator_name: c.creator_name,
        title: c.title,
        r#type: c.kind,
        description: c.description,
        original_content_id: c.original_content_id,
        status: c.status.as_str().to_owned(),
        create_time: c.create_time,
    }
}

#[tonic::async_trait]
impl pb::content_service_server::ContentService for ContentApi {
    async fn create_content(
        &self,
        request: Request<pb::CreateContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        let content = draft(request.into_inner())?;
        // A cover names a registered original. Checked before recording, so a refused cover
        // leaves nothing behind; an original deleted after this check is as if deleted after
        // the cover was recorded (the cover reads the original, the delete never the cover).
        if content.names_original() {
            let original = store::get(&self.store, &content.original_content_id)
                .await
                .map_err(internal)?;
            content
                .check_original(original.as_ref())
                .map_err(rejected)?;
        }
        Ok(Response::new(to_pb(self.upload.upload(content).await?)))
    }

    async fn get_content(
        &self,
        request: Request<pb::GetContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        Ok(Response::new(to_pb(
            self.load(&request.into_inner().content_id).await?,
        )))
    }

    async fn list_contents(
        &self,
        request: Request<pb::ListContentsRequest>,
    ) -> Result<Response<pb::ListContentsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let creator = input::text("creator_name", &r.creator_name, NAME_MAX)?;
        let mut contents = store::list(&self.store, page, &creator)
            .await
            .map_err(internal)?;
        let next_page_token = page.finish(&mut contents);
        Ok(Response::new(pb::ListContentsResponse {
            contents: contents.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    /// Deleting starts the release saga: DELETED plus `ContentDeleted`; copyright releases and
    /// the status moves on to RELEASED. Deleting again answers the content as it is.
    async fn delete_content(
        &self,
        request: Request<pb::DeleteContentRequest>,
    ) -> Result<Response<pb::Content>, Status> {
        let mut content = self.load(&request.into_inner().content_id).await?;
        let live = [ContentStatus::Approved, ContentStatus::Registered];
        if !live.contains(&content.status) {
            return match content.status {
                ContentStatus::Deleted | ContentStatus::Released => {
                    Ok(Response::new(to_pb(content)))
                }
                other => Err(Status::failed_precondition(format!(
                    "content is {} and cannot be deleted",
                    other.as_str()
                ))),
            };
        }
        let deleted = pb::ContentDeleted {
            content_id: content.id.clone(),
            creator_name: content.creator_name.clone(),
        };
        let event = Event::new("music.content", &deleted, &content.id, 3, &content.id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::transition(&mut tx, &content.id, &live, ContentStatus::Deleted)
            .await
            .map_err(internal)?
        {
            return Err(Status::aborted("content changed meanwhile; try again"));
        }
        tx.raise(event).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        content.status = ContentStatus::Deleted;
        Ok(Response::new(to_pb(content)))
    }
}
