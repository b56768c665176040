//! gRPC inbound adapter of source.
use mediamesh_mesh::Store;
use mediamesh_mesh::error::internal;
use mediamesh_mesh::storage::page::Page;
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store;

pub struct SourceApi {
    store: Store,
}

impl SourceApi {
    pub fn new(store: Store) -> SourceApi {
        SourceApi { store }
    }
}

#[tonic::async_trait]
impl pb::source_service_server::SourceService for SourceApi {
    async fn list_sources(
        &self,
        request: Request<pb::ListSourcesRequest>,
    ) -> Result<Response<pb::ListSourcesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let mut sources = store::list(&self.store, page).await.map_err(internal)?;
        let next_page_token = page.finish(&mut sources);
        Ok(Response::new(pb::ListSourcesResponse {
            sources,
            next_page_token,
        }))
    }
}
