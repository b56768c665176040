//! gRPC inbound adapter of payment: parses requests at the edge, answers in contract types.
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::{Store, input};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::{PayRequest, Payment, Won};
use crate::error::Error;
use crate::store;

pub struct PaymentApi {
    store: Store,
}

impl PaymentApi {
    pub fn new(store: Store) -> PaymentApi {
        PaymentApi { store }
    }
}

pub fn to_pb(p: &Payment) -> pb::Payment {
    let r = p.request();
    pb::Payment {
        purchase_id: r.purchase_id.clone(),
        customer_id: r.customer_id.clone(),
        vod_id: r.vod_id.clone(),
        amount: r.amount.get(),
        pay_status: p.status().as_str().to_owned(),
        free_vod: r.free_vod,
    }
}

fn parse(r: pb::PayRequest) -> Result<PayRequest, Error> {
    Ok(PayRequest {
        purchase_id: input::id("purchase_id", &r.purchase_id)?,
        customer_id: input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default(),
        vod_id: input::id("vod_id", &r.vod_id)?,
        amount: Won::new(r.amount.into())?,
        free_vod: r.free_vod,
    })
}

#[tonic::async_trait]
impl pb::payment_service_server::PaymentService for PaymentApi {
    async fn pay(&self, request: Request<pb::PayRequest>) -> Result<Response<pb::Payment>, Status> {
        let request = parse(request.into_inner())?;
        let payment = crate::pay::pay(&self.store, request).await?;
        Ok(Response::new(to_pb(&payment)))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        let payment = store::get(&self.store, &id).await.map_err(Error::from)?;
        let payment = payment.ok_or(Error::NotFound(id))?;
        auth::check(caller.as_ref(), |c| {
            access::may_read(c, &payment.request().customer_id)
        })?;
        Ok(Response::new(to_pb(&payment)))
    }
}
