//! gRPC inbound adapter of payment. Every field passes `mediamesh_mesh::input` first, on
//! the internal `Pay` as much as on the public `GetPayment`.
use mediamesh_mesh::error::{internal, not_found};
use mediamesh_mesh::input;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store::{self, APPROVED, Recorded};

/// The largest amount one reservation pays (a ticket is 10,000 won).
const MAX_AMOUNT: i64 = 10_000_000;

pub struct PaymentApi {
    store: Store,
}

impl PaymentApi {
    pub fn new(store: Store) -> PaymentApi {
        PaymentApi { store }
    }
}

/// Whether `request` is the request `recorded` answered: a retry. A void (left by a
/// reservation that failed before its payment arrived) knows no amount.
fn same_request(recorded: &Recorded, request: &pb::Payment) -> bool {
    let p = &recorded.payment;
    p.movie_id == request.movie_id
        && p.customer_id == request.customer_id
        && (recorded.voided || p.amount == request.amount)
}

#[tonic::async_trait]
impl pb::payment_service_server::PaymentService for PaymentApi {
    async fn pay(&self, request: Request<pb::PayRequest>) -> Result<Response<pb::Payment>, Status> {
        let r = request.into_inner();
        let payment = pb::Payment {
            rsv_id: input::id("rsv_id", &r.rsv_id)?,
            movie_id: input::id("movie_id", &r.movie_id)?,
            customer_id: input::optional_id("customer_id", &r.customer_id)?.unwrap_or_default(),
            amount: input::bounded("amount", r.amount.into(), MAX_AMOUNT)? as i32,
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
                    if store::insert(tx, &payment, false).await? {
                        tx.raise(event).await?;
                        return Ok(Some(payment));
                    }
                    // A retry answers what is recorded (a voided reservation's void too);
                    // the same key with another request is refused.
                    let recorded = store::get_in(tx, &payment.rsv_id)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?;
                    Ok(same_request(&recorded, &payment).then_some(recorded.payment))
                })
            })
            .await
            .map_err(internal)?;
        let recorded = recorded.ok_or_else(|| {
            Status::already_exists(format!(
                "rsv_id: reservation {id:?} is already paid with another request"
            ))
        })?;
        Ok(Response::new(recorded))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let id = input::id("rsv_id", &request.into_inner().rsv_id)?;
        let payment = store::get(&self.store, &id).await.map_err(internal)?;
        Ok(Response::new(
            payment.ok_or_else(|| not_found("payment", &id))?,
        ))
    }
}
