//! gRPC inbound adapter of source.
use mediamesh_mesh::Store;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::Source;
use crate::error::Error;
use crate::store;

pub struct SourceApi {
    store: Store,
}

impl SourceApi {
    pub fn new(store: Store) -> SourceApi {
        SourceApi { store }
    }
}

fn to_pb(s: &Source) -> pb::Source {
    pb::Source {
        source_id: s.source_id().to_owned(),
        content_id: s.content_id().to_owned(),
        creator_name: s.creator_name().to_owned(),
        title: s.title().to_owned(),
        status: s.status().as_str().to_owned(),
    }
}

#[tonic::async_trait]
impl pb::source_service_server::SourceService for SourceApi {
    async fn list_sources(
        &self,
        request: Request<pb::ListSourcesRequest>,
    ) -> Result<Response<pb::ListSourcesResponse>, Status> {
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2).map_err(Error::from)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (sources, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListSourcesResponse {
            sources: sources.iter().map(to_pb).collect(),
            next_page_token,
        }))
    }
}
