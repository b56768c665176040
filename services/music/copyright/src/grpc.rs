//! gRPC inbound adapter of copyright. `ApproveCopyright` is internal (content calls it on the
//! mesh port) and validates its input exactly like a public RPC.
use mediamesh_mesh::Store;
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{Approval, Copyright};
use crate::error::Error;
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
    let status = c.status().as_str().to_owned();
    let a = c.approval().clone();
    pb::Copyright {
        content_id: a.content_id,
        creator_name: a.creator_name,
        title: a.title,
        original_content_id: a.original_content_id,
        status,
    }
}

/// Every field of the request in shape, in the order of the contract.
fn parse(r: &pb::ApproveCopyrightRequest) -> Result<(Approval, String), Error> {
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
    Ok((approval, original_creator_name))
}

#[tonic::async_trait]
impl pb::copyright_service_server::CopyrightService for CopyrightApi {
    async fn approve_copyright(
        &self,
        request: Request<pb::ApproveCopyrightRequest>,
    ) -> Result<Response<pb::Copyright>, Status> {
        let (approval, original_creator_name) = parse(request.get_ref())?;
        let copyright =
            crate::approve::approve(&self.store, approval, original_creator_name).await?;
        Ok(Response::new(to_pb(copyright)))
    }

    async fn list_copyrights(
        &self,
        request: Request<pb::ListCopyrightsRequest>,
    ) -> Result<Response<pb::ListCopyrightsResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (copyrights, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListCopyrightsResponse {
            copyrights: copyrights.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
