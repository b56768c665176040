//! gRPC inbound adapter of mileage.
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::{Store, input};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::wire;
use crate::error::Error;
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
        let caller = auth::caller(&request).cloned();
        let id = input::id("customer_id", &request.into_inner().customer_id)?;
        auth::check(caller.as_ref(), |c| access::may_read(c, &id))?;
        let account = store::get(&self.store, &id).await.map_err(Error::from)?;
        let account = account.ok_or(Error::NotFound(id))?;
        Ok(Response::new(pb::Mileage {
            free_vod_credits: wire(account.free_vod_credits()),
            customer_id: account.customer_id().to_owned(),
            points: wire(account.points()),
        }))
    }
}
