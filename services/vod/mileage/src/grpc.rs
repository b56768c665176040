//! gRPC inbound adapter of mileage.
use mediamesh_mesh::error::{internal, not_found};
use mediamesh_mesh::{Store, input};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store;

pub struct MileageApi {
    store: Store,
}

impl MileageApi {
    pub fn new(store: Store) -> MileageApi {
        MileageApi { store }
    }
}

#[tonic::async_trait]
impl pb::mileage_service_server::MileageService for MileageApi {
    async fn get_mileage(
        &self,
        request: Request<pb::GetMileageRequest>,
    ) -> Result<Response<pb::Mileage>, Status> {
        let id = input::id("customer_id", &request.into_inner().customer_id)?;
        let account = store::get(&self.store, &id).await.map_err(internal)?;
        let account = account.ok_or_else(|| not_found("mileage of customer", &id))?;
        Ok(Response::new(pb::Mileage {
            free_vod_credits: account.free_vod_credits() as i32,
            customer_id: account.customer_id,
            points: account.points as i32,
        }))
    }
}
