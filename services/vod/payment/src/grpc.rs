//! gRPC inbound adapter of payment.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::vod::v1 as pb;
use tonic::{Request, Response, Status};

use crate::domain::{MAX_AMOUNT, Payment};
use crate::store;

pub struct PaymentApi {
    store: Store,
}

impl PaymentApi {
    pub fn new(store: Store) -> PaymentApi {
        PaymentApi { store }
    }
}

pub fn to_pb(p: Payment) -> pb::Payment {
    pb::Payment {
        purchase_id: p.purchase_id,
        customer_id: p.customer_id,
        vod_id: p.vod_id,
        amount: p.amount as i32,
        pay_status: p.status,
        free_vod: p.free_vod,
    }
}

#[tonic::async_trait]
impl pb::payment_service_server::PaymentService for PaymentApi {
    async fn pay(&self, request: Request<pb::PayRequest>) -> Result<Response<pb::Payment>, Status> {
        let r = request.into_inner();
        let purchase_id = input::id("purchase_id", &r.purchase_id)?;
        let customer_id = input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default();
        let vod_id = input::id("vod_id", &r.vod_id)?;
        let amount = input::bounded("amount", r.amount.into(), MAX_AMOUNT)?;
        let payment = Payment::approve(&purchase_id, &customer_id, &vod_id, amount, r.free_vod)
            .map_err(|e| invalid_argument(e.field(), e.to_string()))?;
        let event = pb::PaymentApproved {
            purchase_id: payment.purchase_id.clone(),
            customer_id: payment.customer_id.clone(),
            amount: payment.amount as i32,
            free_vod: payment.free_vod,
        };
        let event = Event::new("vod.payment", &event, &purchase_id, 1, &purchase_id);
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if store::insert(tx, &payment).await? {
                        tx.raise(event).await?;
                        return Ok(Some(payment));
                    }
                    // The key is taken (the insert waited for its holder to commit): a retry
                    // of the same request answers what is recorded; another request does not.
                    let recorded = store::get_in(tx, &payment.purchase_id)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?;
                    Ok(recorded.answers(&payment).then_some(recorded))
                })
            })
            .await
            .map_err(internal)?;
        let recorded = recorded.ok_or_else(|| {
            Status::already_exists(format!(
                "purchase_id {purchase_id:?} already has a payment for another request"
            ))
        })?;
        Ok(Response::new(to_pb(recorded)))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let id = input::id("purchase_id", &request.into_inner().purchase_id)?;
        let payment = store::get(&self.store, &id).await.map_err(internal)?;
        let payment = payment.ok_or_else(|| not_found("payment", &id))?;
        Ok(Response::new(to_pb(payment)))
    }
}
