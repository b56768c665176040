//! gRPC inbound adapter of copyright.
use mediamesh_mesh::error::{internal, invalid_argument, require};
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store;

pub struct CopyrightApi {
    store: Store,
}

impl CopyrightApi {
    pub fn new(store: Store) -> CopyrightApi {
        CopyrightApi { store }
    }
}

#[tonic::async_trait]
impl pb::copyright_service_server::CopyrightService for CopyrightApi {
    async fn approve_copyright(
        &self,
        request: Request<pb::ApproveCopyrightRequest>,
    ) -> Result<Response<pb::Copyright>, Status> {
        let r = request.into_inner();
        require("content_id", &r.content_id)?;
        require("creator_name", &r.creator_name)?;
        if r.r#type.eq_ignore_ascii_case("cover") && r.original_content_id.is_empty() {
            return Err(invalid_argument(
                "original_content_id",
                "a cover names its original",
            ));
        }
        let copyright = pb::Copyright {
            content_id: r.content_id.clone(),
            creator_name: r.creator_name.clone(),
            title: r.title.clone(),
            original_content_id: r.original_content_id.clone(),
            status: "APPROVED".into(),
        };
        let approved = pb::CopyrightApproved {
            content_id: r.content_id.clone(),
            creator_name: r.creator_name,
            title: r.title,
            r#type: r.r#type,
            original_content_id: r.original_content_id,
            original_creator_name: r.original_creator_name,
        };
        let event = Event::new(
            "music.copyright",
            &approved,
            &r.content_id,
            1,
            &r.content_id,
        );
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if store::insert(tx, &copyright).await? {
                        tx.raise(event).await?;
                        return Ok(copyright);
                    }
                    // A retry (or an already released one): answer what is recorded.
                    store::get_in(tx, &copyright.content_id)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)
                })
            })
            .await
            .map_err(internal)?;
        Ok(Response::new(recorded))
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
            copyrights,
            next_page_token,
        }))
    }
}
