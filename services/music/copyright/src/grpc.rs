//! gRPC inbound adapter of copyright. `ApproveCopyright` is internal (content calls it on the
//! mesh port) and validates its input exactly like a public RPC.
use mediamesh_mesh::error::{internal, invalid_argument};
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{Approval, ApprovalError, Copyright};
use crate::store;

pub struct CopyrightApi {
    store: Store,
}

impl CopyrightApi {
    pub fn new(store: Store) -> CopyrightApi {
        CopyrightApi { store }
    }
}

fn to_pb(c: Copyright) -> pb::Copyright {
    pb::Copyright {
        content_id: c.approval.content_id,
        creator_name: c.approval.creator_name,
        title: c.approval.title,
        original_content_id: c.approval.original_content_id,
        status: c.status,
    }
}

fn rejected(error: ApprovalError) -> Status {
    match error {
        ApprovalError::KeyReused => Status::already_exists(format!("{}: {error}", error.field())),
        _ => invalid_argument(error.field(), error.to_string()),
    }
}

/// Every field of the request in shape, then the approval's own rules.
fn approval(r: &pb::ApproveCopyrightRequest) -> Result<(Approval, String), Status> {
    let approval = Approval {
        content_id: input::id("content_id", &r.content_id)?,
        creator_name: input::required_text("creator_name", &r.creator_name, NAME_MAX)?,
        title: input::required_text("title", &r.title, NAME_MAX)?,
        kind: input::text("type", &r.r#type, NAME_MAX)?,
        original_content_id: input::optional_id("original_content_id", &r.original_content_id)?
            .unwrap_or_default(),
    };
    let original_creator_name =
        input::text("original_creator_name", &r.original_creator_name, NAME_MAX)?;
    Ok((approval.check().map_err(rejected)?, original_creator_name))
}

#[tonic::async_trait]
impl pb::copyright_service_server::CopyrightService for CopyrightApi {
    async fn approve_copyright(
        &self,
        request: Request<pb::ApproveCopyrightRequest>,
    ) -> Result<Response<pb::Copyright>, Status> {
        let (approval, original_creator_name) = approval(request.get_ref())?;
        let a = &approval;
        let approved = pb::CopyrightApproved {
            content_id: a.content_id.clone(),
            creator_name: a.creator_name.clone(),
            title: a.title.clone(),
            r#type: a.kind.clone(),
            original_content_id: a.original_content_id.clone(),
            original_creator_name,
        };
        let event = Event::new(
            "music.copyright",
            &approved,
            &a.content_id,
            1,
            &a.content_id,
        );
        let copyright = approval.clone().approve();
        // Insert first: a concurrent approval or void of the same key waits for this one
        // (or this one for it), so exactly one record is made and the other reads it.
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if store::insert(tx, &copyright).await? {
                        tx.raise(event).await?;
                        return Ok(Some(copyright));
                    }
                    store::get_in(tx, &copyright.approval.content_id).await
                })
            })
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("a conflicting copyright vanished"))?;
        let answer = approval.answer(recorded).map_err(rejected)?;
        Ok(Response::new(to_pb(answer)))
    }

    async fn list_copyrights(
        &self,
        request: Request<pb::ListCopyrightsRequest>,
    ) -> Result<Response<pb::ListCopyrightsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let mut copyrights = store::list(&self.store, page).await.map_err(internal)?;
        let next_page_token = page.finish(&mut copyrights);
        Ok(Response::new(pb::ListCopyrightsResponse {
            copyrights: copyrights.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
