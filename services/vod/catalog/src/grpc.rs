//! gRPC inbound adapter of the catalog.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{MAX_PRICE, Vod};
use crate::store;

pub struct CatalogApi {
    store: Store,
}

impl CatalogApi {
    pub fn new(store: Store) -> CatalogApi {
        CatalogApi { store }
    }
}

fn to_pb(vod: Vod) -> pb::Vod {
    pb::Vod {
        vod_id: vod.id,
        vod_name: vod.name,
        price: vod.price as i32,
    }
}

#[tonic::async_trait]
impl pb::catalog_service_server::CatalogService for CatalogApi {
    async fn list_vods(
        &self,
        request: Request<pb::ListVodsRequest>,
    ) -> Result<Response<pb::ListVodsResponse>, Status> {
        let request = request.into_inner();
        let page = Page::parse(request.page_size, &request.page_token)?;
        let mut vods = store::list(&self.store, page).await.map_err(internal)?;
        let next_page_token = page.finish(&mut vods);
        Ok(Response::new(pb::ListVodsResponse {
            vods: vods.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_vod(
        &self,
        request: Request<pb::GetVodRequest>,
    ) -> Result<Response<pb::Vod>, Status> {
        let id = input::id("vod_id", &request.into_inner().vod_id)?;
        let vod = store::get(&self.store, &id).await.map_err(internal)?;
        let vod = vod.ok_or_else(|| not_found("vod", &id))?;
        Ok(Response::new(to_pb(vod)))
    }

    async fn create_vod(
        &self,
        request: Request<pb::CreateVodRequest>,
    ) -> Result<Response<pb::Vod>, Status> {
        let request = request.into_inner();
        let id = input::optional_id("vod_id", &request.vod_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let name = input::required_text("vod_name", &request.vod_name, NAME_MAX)?;
        let price = request
            .price
            .map(|price| input::bounded("price", price.into(), MAX_PRICE))
            .transpose()?;
        let vod = Vod::register(id, &name, price)
            .map_err(|e| invalid_argument(e.field(), e.to_string()))?;
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::insert(&mut tx, &vod).await.map_err(internal)? {
            return Err(Status::already_exists(format!(
                "vod {:?} already exists",
                vod.id
            )));
        }
        let event = pb::VodRegistered {
            vod_id: vod.id.clone(),
            vod_name: vod.name.clone(),
            price: vod.price as i32,
        };
        tx.raise(Event::new("vod.catalog", &event, &vod.id, 1, &vod.id))
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(vod_id = %vod.id, "vod registered");
        Ok(Response::new(to_pb(vod)))
    }
}
