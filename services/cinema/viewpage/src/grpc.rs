//! gRPC inbound adapter of the viewpage.
use mediamesh_mesh::Store;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::store;

pub struct ViewpageApi {
    store: Store,
}

impl ViewpageApi {
    pub fn new(store: Store) -> ViewpageApi {
        ViewpageApi { store }
    }

    async fn list(&self, r: pb::ListViewpagesRequest) -> Result<pb::ListViewpagesResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 1)?;
        let mut viewpages = store::list(&self.store, &page).await?;
        let next_page_token = page.finish(&mut viewpages, |v| vec![v.movie_id.clone()]);
        Ok(pb::ListViewpagesResponse {
            viewpages,
            next_page_token,
        })
    }
}

#[tonic::async_trait]
impl pb::viewpage_service_server::ViewpageService for ViewpageApi {
    async fn list_viewpages(
        &self,
        request: Request<pb::ListViewpagesRequest>,
    ) -> Result<Response<pb::ListViewpagesResponse>, Status> {
        Ok(Response::new(self.list(request.into_inner()).await?))
    }
}
