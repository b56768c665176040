//! The purchase saga (`SyncSaga`): record the purchase PENDING (spending a free-VOD credit
//! if there is one), call `Pay` through the breaker with the purchase id as idempotency key,
//! then settle: PAID raises `PurchasePlaced`; a failed payment gives the credit back and
//! raises `PurchaseFailed`, so a payment that went through after all is cancelled. The
//! mesh's recovery sweep settles what a crash left pending the same way.
//!
//! The saga runs detached from the request: a caller that goes away (deadline, reset
//! stream) drops only its wait, never the saga, so the purchase settles at once rather than
//! minutes later by the sweep, and the client's retry with the same id answers it.
use mediamesh_mesh::calls::saga::{SyncSaga, complete, precheck, settled};
use mediamesh_mesh::input::NAME_MAX;
use mediamesh_mesh::{CallError, Event, Peer, Raise, Retry, Store, Tx};
use mediamesh_proto::vod::v1 as pb;
use mediamesh_proto::vod::v1::payment_service_client::PaymentServiceClient;

use crate::domain::{Order, OrderStatus, Purchase, Vod};
use crate::error::Error;
use crate::store;

pub const CONTEXT: &str = "vod.purchase";

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
    /// meanwhile is simply kept for the next purchase. A retry of the same request under
    /// the same id answers that purchase as it is now.
    pub async fn purchase(
        &self,
        id: String,
        vod: Vod,
        customer_id: String,
        may_be_free: bool,
    ) -> Result<Purchase, Error> {
        // While payment's breaker is open, answer "pay later" before writing anything.
        precheck(self)?;
        let saga = self.clone();
        let run = async move { saga.place(id, vod, customer_id, may_be_free).await };
        // Spawned, so dropping this request's future (the caller's deadline) leaves the
        // saga running to its end; the peer call keeps its own deadline.
        match mediamesh_mesh::calls::saga::detached(run).await {
            Ok(answer) => answer,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Only when the runtime shuts down; the sweep settles what it left pending.
            Err(_) => Err(Error::Interrupted),
        }
    }

    async fn place(
        &self,
        id: String,
        vod: Vod,
        customer_id: String,
        may_be_free: bool,
    ) -> Result<Purchase, Error> {
        let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
        let purchase = Purchase::place(id, &vod, customer_id, now);
        let recorded = self
            .store
            .write(move |tx| Box::pin(record(tx, purchase.clone(), may_be_free)))
            .await?;
        match recorded {
            Recorded::New(pending) => complete(self, pending).await,
            Recorded::Taken { existing, retry } => self.retried(existing, retry).await,
        }
    }

    /// A purchase found under a client-chosen id: the same request again (AIP-155) answers
    /// it as it is, once settled if it is still being paid (a copy sent while the first
    /// waits for payment answers what the first caller is answered, not PENDING); another
    /// request under that id is refused naming the id.
    pub async fn retried(&self, existing: Purchase, same_request: bool) -> Result<Purchase, Error> {
        if !same_request {
            return Err(Error::Exists(existing.id().to_owned()));
        }
        let (id, recorded) = (
            existing.id().to_owned(),
            existing.order().create_time.clone(),
        );
        let is_pending = |p: &Purchase| p.status() == OrderStatus::Pending;
        let look = || store::get(&self.store, &id);
        Ok(settled(&self.payment, existing, &recorded, is_pending, look).await?)
    }
}

/// What recording a purchase found.
enum Recorded {
    New(Purchase),
    /// The id was taken (a retry, or a copy sent at the same time that got there first).
    Taken {
        existing: Purchase,
        retry: bool,
    },
}

/// Records a new purchase, paid by a credit if the customer still holds one; the purchase
/// already holding its id otherwise.
async fn record(
    tx: &mut Tx,
    mut purchase: Purchase,
    may_be_free: bool,
) -> Result<Recorded, sqlx::Error> {
    // Insert first, then spend: a copy of the same id sent at the same time waits here for
    // the first to commit and spends nothing.
    if !store::insert(tx.conn(), &purchase).await? {
        let existing = store::get_in(tx, purchase.id()).await?;
        let existing = existing.ok_or_else(|| sqlx::Error::RowNotFound)?;
        let order = purchase.order();
        let retry = existing.same_request(&order.vod_id, &order.customer_id);
        return Ok(Recorded::Taken { existing, retry });
    }
    if may_be_free
        && !purchase.is_anonymous()
        && store::take_credit(tx, &purchase.order().customer_id).await?
        && purchase.pay_with_credit()
    {
        store::save_terms(tx, &purchase).await?;
    }
    Ok(Recorded::New(purchase))
}

/// Settles a pending purchase with the payment's answer (paid, or failed for a reason), in
/// one transaction with its event; None when someone else (the sweep, or the request)
/// settled it first.
async fn settle(
    tx: &mut Tx,
    mut purchase: Purchase,
    outcome: Result<(), String>,
) -> Result<Option<Purchase>, sqlx::Error> {
    let (event, credit_back) = match outcome {
        Ok(()) => {
            let Ok(placed) = purchase.paid() else {
                return Ok(None);
            };
            let id = &placed.order.id;
            let event = placed_event(&placed.order);
            (Event::new(CONTEXT, &event, id, placed.version, id), None)
        }
        Err(reason) => {
            let Ok(failed) = purchase.failed(reason) else {
                return Ok(None);
            };
            let event = pb::PurchaseFailed {
                purchase_id: failed.purchase_id.clone(),
                customer_id: failed.customer_id.clone(),
                reason: failed.reason,
            };
            let id = &failed.purchase_id;
            let credit_back = failed.credit_returned.then_some(failed.customer_id);
            (
                Event::new(CONTEXT, &event, id, failed.version, id),
                credit_back,
            )
        }
    };
    // Optimistic: only the settlement that finds the row still pending writes.
    if !store::update_status(tx, &purchase).await? {
        return Ok(None);
    }
    if let Some(customer_id) = credit_back {
        store::add_credit(tx, &customer_id).await?;
    }
    tx.raise(event).await?;
    Ok(Some(purchase))
}

fn placed_event(order: &Order) -> pb::PurchasePlaced {
    pb::PurchasePlaced {
        purchase_id: order.id.clone(),
        customer_id: order.customer_id.clone(),
        vod_id: order.vod_id.clone(),
        vod_name: order.vod_name.clone(),
        amount: order.amount.get(),
        free_vod: order.free_vod,
    }
}

#[async_trait::async_trait]
impl SyncSaga for Checkout {
    type Pending = Purchase;
    type Answer = pb::Payment;
    type Settled = Purchase;
    type Error = Error;

    fn peer(&self) -> &Peer {
        &self.payment
    }

    /// Calls `Pay`; idempotent (the purchase id is its key), so it may be retried.
    async fn ask(&self, p: &Purchase) -> Result<pb::Payment, CallError> {
        let order = p.order();
        let request = pb::PayRequest {
            purchase_id: order.id.clone(),
            customer_id: order.customer_id.clone(),
            vod_id: order.vod_id.clone(),
            amount: order.amount.get(),
            free_vod: order.free_vod,
        };
        self.payment
            .call(Retry::Safe, |channel| {
                let request = self.payment.request(request.clone());
                async move { PaymentServiceClient::new(channel).pay(request).await }
            })
            .await
    }

    async fn settle(
        &self,
        pending: Purchase,
        answer: Result<pb::Payment, CallError>,
    ) -> Result<Purchase, Error> {
        let id = pending.id().to_owned();
        let outcome = match answer {
            Ok(payment) if payment.pay_status == "APPROVED" => Ok(()),
            Ok(payment) => Err(Error::Refused {
                purchase_id: id.clone(),
                status: payment.pay_status,
            }),
            Err(cause) => Err(Error::NotMade {
                purchase_id: id.clone(),
                cause,
            }),
        };
        let settled = self
            .store
            .write({
                // The reason travels in an event: bounded like any stored text.
                let reason = |e: &Error| e.reason().chars().take(NAME_MAX).collect();
                let outcome = outcome.as_ref().map(|_| ()).map_err(reason);
                move |tx| Box::pin(settle(tx, pending.clone(), outcome.clone()))
            })
            .await?;
        match settled {
            Some(p) => {
                tracing::debug!(purchase_id = %id, status = p.status().as_str(), "purchase settled");
                outcome.map(|()| p)
            }
            // Someone else settled it first; theirs stands.
            None => store::get(&self.store, &id)
                .await?
                .ok_or(Error::NotFound("purchase", id)),
        }
    }

    async fn pending_before(&self, cutoff: &str) -> Result<Vec<Purchase>, sqlx::Error> {
        store::pending_before(&self.store, cutoff).await
    }
}
