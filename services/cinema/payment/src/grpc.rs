//! gRPC inbound adapter of payment.
use mediamesh_mesh::error::{internal, invalid_argument, not_found, require};
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store::{self, APPROVED};

pub struct PaymentApi {
    store: Store,
}

impl PaymentApi {
    pub fn new(store: Store) -> PaymentApi {
        PaymentApi { store }
    }
}

#[tonic::async_trait]
impl pb::payment_service_server::PaymentService for PaymentApi {
    async fn pay(&self, request: Request<pb::PayRequest>) -> Result<Response<pb::Payment>, Status> {
        let r = request.into_inner();
        require("rsv_id", &r.rsv_id)?;
        require("movie_id", &r.movie_id)?;
        if r.amount < 0 {
            return Err(invalid_argument("amount", "must not be negative"));
        }
        let payment = pb::Payment {
            rsv_id: r.rsv_id,
            movie_id: r.movie_id,
            customer_id: r.customer_id,
            amount: r.amount,
            pay_status: APPROVED.to_owned(),
        };
        let approved = pb::PaymentApproved {
            rsv_id: payment.rsv_id.clone(),
            movie_id: payment.movie_id.clone(),
            amount: payment.amount,
        };
        let id = payment.rsv_id.clone();
        let event = Event::new("cinema.payment", &approved, &id, 1, &id);
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if store::insert(tx, &payment).await? {
                        tx.raise(event).await?;
                        return Ok(payment);
                    }
                    // A retry (or a voided reservation): answer what is recorded.
                    store::get_in(tx, &payment.rsv_id)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)
                })
            })
            .await
            .map_err(internal)?;
        Ok(Response::new(recorded))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let id = request.into_inner().rsv_id;
        let payment = store::get(&self.store, &id).await.map_err(internal)?;
        Ok(Response::new(
            payment.ok_or_else(|| not_found("payment", &id))?,
        ))
    }
}
