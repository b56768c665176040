//! gRPC inbound adapter of the catalog: parses requests at the edge, answers in contract types.
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{MAX_PRICE, Registered, Vod};
use crate::error::Error;
use crate::store;

const CONTEXT: &str = "vod.catalog";

pub struct CatalogApi {
    store: Store,
}

impl CatalogApi {
    pub fn new(store: Store) -> CatalogApi {
        CatalogApi { store }
    }

    /// Records a new VOD with its `VodRegistered`; its id must be free.
    async fn register(&self, vod: Vod, registered: Registered) -> Result<Vod, Error> {
        let mut tx = self.store.begin().await?;
        if !store::insert(&mut tx, &vod).await? {
            return Err(Error::Exists(vod.id().to_owned()));
        }
        let event = pb::VodRegistered {
            vod_id: registered.id.clone(),
            vod_name: registered.name,
            price: registered.price.get(),
        };
        let id = &registered.id;
        tx.raise(Event::new(CONTEXT, &event, id, 1, id)).await?;
        tx.commit().await?;
        tracing::info!(vod_id = %id, "vod registered");
        Ok(vod)
    }
}

fn to_pb(vod: &Vod) -> pb::Vod {
    pb::Vod {
        vod_id: vod.id().to_owned(),
        vod_name: vod.name().to_owned(),
        price: vod.price().get(),
    }
}

#[tonic::async_trait]
impl pb::catalog_service_server::CatalogService for CatalogApi {
    async fn list_vods(
        &self,
        request: Request<pb::ListVodsRequest>,
    ) -> Result<Response<pb::ListVodsResponse>, Status> {
        let request = request.into_inner();
        let page = Keyset::parse(request.page_size, &request.page_token, 2)?;
        let rows = store::list(&self.store, &page).await.map_err(Error::from)?;
        let (vods, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListVodsResponse {
            vods: vods.iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_vod(
        &self,
        request: Request<pb::GetVodRequest>,
    ) -> Result<Response<pb::Vod>, Status> {
        let id = input::id("vod_id", &request.into_inner().vod_id)?;
        let vod = store::get(&self.store, &id).await.map_err(Error::from)?;
        let vod = vod.ok_or(Error::NotFound(id))?;
        Ok(Response::new(to_pb(&vod)))
    }

    async fn create_vod(
        &self,
        request: Request<pb::CreateVodRequest>,
    ) -> Result<Response<pb::Vod>, Status> {
        auth::authorize(&request, access::may_register)?;
        let request = request.into_inner();
        let id = input::optional_id("vod_id", &request.vod_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let name = input::required_text("vod_name", &request.vod_name, NAME_MAX)?;
        let price = request
            .price
            .map(|price| input::bounded("price", price.into(), MAX_PRICE))
            .transpose()?;
        let (vod, registered) = Vod::register(id, &name, price).map_err(Error::from)?;
        let vod = self.register(vod, registered).await?;
        Ok(Response::new(to_pb(&vod)))
    }
}
