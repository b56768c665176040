//! gRPC inbound adapter of mypage.
use mediamesh_mesh::Store;
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_proto::music::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
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
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.creator_name = access::creator_filter(caller, &r.creator_name)?;
        }
        let page = Keyset::parse(r.page_size, &r.page_token, 1).map_err(Error::from)?;
        let creator =
            input::text("creator_name", &r.creator_name, NAME_MAX).map_err(Error::from)?;
        let mut mypages = store::list(&self.store, &page, &creator)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.finish(&mut mypages, |m| vec![m.content_id.clone()]);
        Ok(Response::new(pb::ListMypagesResponse {
            mypages,
            next_page_token,
        }))
    }
}
