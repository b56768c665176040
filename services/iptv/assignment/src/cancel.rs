//! The cancellation, on the mesh's `SyncSaga`: the desk records a customer's cancellation as
//! requested (in the transaction that hears of it), then asks installation through the
//! breaker whether it can still be withdrawn (`WithdrawInstallation`, the join order id as
//! idempotency key), and settles once: CANCELLED with `CancellationAccepted`, or
//! CANCEL_REJECTED with `CancellationRejected`. Installation down or hung leaves the
//! cancellation requested, never lost; the recovery sweep asks again until it answers, and a
//! cancellation already answered is never answered again.
use std::sync::{Arc, Mutex};

use mediamesh_mesh::calls::saga::{SyncSaga, complete};
use mediamesh_mesh::{CallError, Peer, Raise, Retry, Store};
use mediamesh_proto::iptv::v1 as pb;
use mediamesh_proto::iptv::v1::installation_service_client::InstallationServiceClient;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::Assignment;
use crate::error::Error;
use crate::events::event;
use crate::store;

#[derive(Clone)]
pub struct Cancellations {
    store: Store,
    installation: Peer,
}

impl Cancellations {
    pub fn new(store: Store, installation: Peer) -> Cancellations {
        Cancellations {
            store,
            installation,
        }
    }
}

#[async_trait::async_trait]
impl SyncSaga for Cancellations {
    type Pending = Assignment;
    type Answer = pb::Withdrawal;
    type Settled = Assignment;
    type Error = Error;

    fn peer(&self) -> &Peer {
        &self.installation
    }

    /// Withdrawing twice answers the same, so the client stack may retry it.
    async fn ask(&self, a: &Assignment) -> Result<pb::Withdrawal, CallError> {
        let request = pb::WithdrawInstallationRequest {
            join_order_id: a.id().to_owned(),
            customer_id: a.order().customer_id.clone(),
        };
        self.installation
            .call(Retry::Safe, |channel| {
                let request = self.installation.request(request.clone());
                async move {
                    InstallationServiceClient::new(channel)
                        .withdraw_installation(request)
                        .await
                }
            })
            .await
    }

    async fn settle(
        &self,
        a: Assignment,
        answer: Result<pb::Withdrawal, CallError>,
    ) -> Result<Assignment, Error> {
        // No answer: the cancellation stays requested for the sweep.
        let withdrawn = answer?.withdrawn;
        let id = a.id().to_owned();
        let settled = self
            .store
            .write(move |tx| {
                let id = id.clone();
                Box::pin(async move {
                    let Some(mut a) = store::lock(tx, &id).await? else {
                        return Ok(None);
                    };
                    // Answered meanwhile (the sweep and the first ask met): theirs stands.
                    if let Some(raised) = a.answer_cancel(withdrawn) {
                        store::save(tx, &a).await?;
                        tx.raise(event(&a, raised)).await?;
                    }
                    Ok(Some(a))
                })
            })
            .await?;
        settled.ok_or_else(|| Error::NotFound(a.id().to_owned()))
    }

    async fn pending_before(&self, cutoff: &str) -> Result<Vec<Assignment>, sqlx::Error> {
        store::cancelling_before(&self.store, cutoff).await
    }
}

/// Where the policy hands a cancellation it recorded to the task that asks installation at
/// once (the sweep would only ask after a few seconds). Empty until the context starts.
#[derive(Clone, Default)]
pub struct Requests(Arc<Mutex<Option<mpsc::Sender<Assignment>>>>);

impl Requests {
    /// A queue of requests for `answer`; replaces any earlier one.
    pub fn open(&self) -> mpsc::Receiver<Assignment> {
        let (sender, receiver) = mpsc::channel(1024);
        *self.0.lock().expect("requests lock") = Some(sender);
        receiver
    }

    /// Hands over a recorded cancellation. A full queue (or none yet) drops it: it is
    /// recorded, so the sweep answers it.
    pub fn push(&self, a: Assignment) {
        if let Some(sender) = self.0.lock().expect("requests lock").as_ref() {
            let _ = sender.try_send(a);
        }
    }
}

/// Asks installation about each cancellation handed over, until `stop`. A request whose
/// recording had not committed yet, or that found installation down, is left to the sweep.
pub async fn answer(
    saga: Cancellations,
    requests: Arc<tokio::sync::Mutex<mpsc::Receiver<Assignment>>>,
    stop: CancellationToken,
) {
    let mut requests = requests.lock().await;
    loop {
        let a = tokio::select! {
            a = requests.recv() => match a {
                Some(a) => a,
                None => return,
            },
            _ = stop.cancelled() => return,
        };
        match complete(&saga, a).await {
            Ok(a) => tracing::info!(
                id = a.id(),
                cancel = a.cancel().as_str(),
                "cancellation answered"
            ),
            Err(error) => tracing::info!(%error, "cancellation left for the recovery sweep"),
        }
    }
}
