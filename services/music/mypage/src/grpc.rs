//! gRPC inbound adapter of mypage.
use mediamesh_mesh::Store;
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::store;

pub struct MypageApi {
    store: Store,
}

impl MypageApi {
    pub fn new(store: Store) -> MypageApi {
        MypageApi { store }
    }
}

#[tonic::async_trait]
impl pb::mypage_service_server::MypageService for MypageApi {
    async fn list_mypages(
        &self,
        request: Request<pb::ListMypagesRequest>,
    ) -> Result<Response<pb::ListMypagesResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token).map_err(Error::from)?;
        let creator =
            input::text("creator_name", &r.creator_name, NAME_MAX).map_err(Error::from)?;
        let mut mypages = store::list(&self.store, page, &creator)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.finish(&mut mypages);
        Ok(Response::new(pb::ListMypagesResponse {
            mypages,
            next_page_token,
        }))
    }
}
