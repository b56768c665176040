//! The purchase saga's synchronous half: record the purchase (spending a free-VOD credit if
//! there is one), call `Pay` through the breaker with the purchase id as idempotency key,
//! then settle: PAID raises `PurchasePlaced`; a failed payment gives the credit back and
//! raises `PurchaseFailed`, so a payment that went through after all is cancelled.
use mediamesh_mesh::calls::recovery::Abandoned;
use mediamesh_mesh::error::internal;
use mediamesh_mesh::input::NAME_MAX;
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::payment_service_client::PaymentServiceClient;
use tonic::Status;

use crate::domain::{OrderStatus, Purchase, Vod};
use crate::store;

const CONTEXT: &str = "vod.purchase";

#[derive(Clone)]
pub struct Checkout {
    store: Store,
    payment: Peer,
}

impl Checkout {
    pub fn new(store: Store, payment: Peer) -> Checkout {
        Checkout { store, payment }
    }

    /// Places a purchase; answers it PAID, or an error (never an unpaid approved purchase).
    /// `may_be_free`: the customer held a free-VOD credit when the offer was read. Most
    /// buyers hold none; only then is the credit table written. A credit that arrives
    /// meanwhile is simply kept for the next purchase.
    pub async fn purchase(
        &self,
        id: String,
        vod: Vod,
        customer_id: String,
        may_be_free: bool,
    ) -> Result<Purchase, Status> {
        // While payment's breaker is open, answer "pay later" before writing anything.
        self.payment.check()?;
        let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
        let recorded = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let mut purchase = Purchase::place(id, &vod, customer_id, now);
                    // Insert first, then spend: a copy of the same id sent at the same time
                    // waits here for the first to commit and spends nothing.
                    if !store::insert(tx.conn(), &purchase).await? {
                        return Ok(Err(purchase.id));
                    }
                    if may_be_free
                        && !purchase.is_anonymous()
                        && store::take_credit(tx, &purchase.customer_id).await?
                    {
                        purchase.pay_with_credit();
                        store::save_terms(tx, &purchase).await?;
                    }
                    Ok(Ok(purchase))
                })
            })
            .await
            .map_err(internal)?;
        let purchase = recorded
            .map_err(|id| Status::already_exists(format!("purchase {id:?} already exists")))?;
        let paid = self.pay(&purchase).await;
        self.settle(purchase, paid).await
    }

    /// Calls `Pay`; idempotent, so the client stack may retry it.
    pub async fn pay(&self, p: &Purchase) -> Result<pb::Payment, Status> {
        let request = pb::PayRequest {
            purchase_id: p.id.clone(),
            customer_id: p.customer_id.clone(),
            vod_id: p.vod_id.clone(),
            amount: p.amount as i32,
            free_vod: p.free_vod,
        };
        self.payment
            .call(Retry::Safe, |channel| {
                let request = self.payment.request(request.clone());
                async move { PaymentServiceClient::new(channel).pay(request).await }
            })
            .await
            .map_err(Status::from)
    }

    /// Records the outcome of the payment on a pending purchase.
    pub async fn settle(
        &self,
        mut p: Purchase,
        paid: Result<pb::Payment, Status>,
    ) -> Result<Purchase, Status> {
        let id = p.id.clone();
        let outcome = match paid {
            Ok(payment) if payment.pay_status == "APPROVED" => Ok(()),
            Ok(payment) => Err(Status::failed_precondition(format!(
                "payment of purchase {:?} is {}",
                p.id, payment.pay_status
            ))),
            Err(error) => Err(error.into()),
        };
        p.version += 1;
        let event = match &outcome {
            Ok(()) => {
                p.status = OrderStatus::Paid;
                Event::new(CONTEXT, &placed(&p), &p.id, p.version, &p.id)
            }
            Err(status) => {
                p.status = OrderStatus::Failed;
                // The reason travels in an event: bounded like any stored text.
                let failed = pb::PurchaseFailed {
                    purchase_id: p.id.clone(),
                    customer_id: p.customer_id.clone(),
                    reason: status.message().chars().take(NAME_MAX).collect(),
                };
                Event::new(CONTEXT, &failed, &p.id, p.version, &p.id)
            }
        };
        let settled = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !store::update_status(tx, &p).await? {
                        return Ok(None);
                    }
                    // A failed free purchase gives its credit back.
                    if p.status == OrderStatus::Failed && p.free_vod {
                        store::add_credit(tx, &p.customer_id).await?;
                    }
                    tx.raise(event).await?;
                    Ok(Some(p))
                })
            })
            .await
            .map_err(internal)?;
        match settled {
            Some(p) => {
                tracing::debug!(purchase_id = %p.id, status = p.status.as_str(), "purchase settled");
                outcome.map(|()| p)
            }
            // Someone else (recovery) settled it first; theirs stands.
            None => store::get(&self.store, &id)
                .await
                .map_err(internal)?
                .ok_or_else(|| Status::internal("purchase vanished")),
        }
    }
}

fn placed(p: &Purchase) -> pb::PurchasePlaced {
    pb::PurchasePlaced {
        purchase_id: p.id.clone(),
        customer_id: p.customer_id.clone(),
        vod_id: p.vod_id.clone(),
        vod_name: p.vod_name.clone(),
        amount: p.amount as i32,
        free_vod: p.free_vod,
    }
}

#[async_trait::async_trait]
impl Abandoned for Checkout {
    type Item = Purchase;
    type Answer = pb::Payment;

    async fn in_flight_before(&self, cutoff: &str) -> Result<Vec<Purchase>, sqlx::Error> {
        store::pending_before(&self.store, cutoff).await
    }

    async fn ask_again(&self, item: &Purchase) -> Result<pb::Payment, Status> {
        self.pay(item).await
    }

    async fn record(
        &self,
        item: Purchase,
        answer: Result<pb::Payment, Status>,
    ) -> Result<(), Status> {
        self.settle(item, answer).await.map(|_| ())
    }
}
