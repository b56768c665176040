//! The synchronous saga: a context that must hear a peer's yes before it answers (purchase ->
//! `Pay`, reservation -> `Pay`, upload -> `ApproveCopyright`) records the request as pending,
//! asks the peer through the breaker with the request's id as idempotency key, then settles
//! with the answer: done, or failed with a failure event that lets the peer undo a yes that
//! arrived too late. A crash between recording and settling leaves the request pending;
//! nobody was answered for it, so the recovery sweep asks the peer again with the same key
//! and settles it the same way.
//!
//! What differs per context (what recording holds, what settling raises) is the context's;
//! the order of the steps, the fail-fast check and the sweep are here, once.
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::calls::resilience::{CallError, Peer};

/// Older than any call in flight can be (the peer call times out well before).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(10);
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// One context's synchronous saga.
#[async_trait::async_trait]
pub trait SyncSaga: Send + Sync + 'static {
    /// A request recorded as pending (a purchase waiting for its payment).
    type Pending: Send + Sync;
    /// The peer's yes (a payment).
    type Answer: Send;
    /// What the caller gets once settled (the paid purchase).
    type Settled: Send;
    type Error: From<CallError> + From<sqlx::Error> + Send;

    /// The peer asked.
    fn peer(&self) -> &Peer;

    /// Asks the peer, with the pending request's idempotency key.
    async fn ask(&self, pending: &Self::Pending) -> Result<Self::Answer, CallError>;

    /// Records the answer on a pending request, once: a request someone else settled
    /// meanwhile answers what they recorded.
    async fn settle(
        &self,
        pending: Self::Pending,
        answer: Result<Self::Answer, CallError>,
    ) -> Result<Self::Settled, Self::Error>;

    /// Requests recorded before `cutoff` (RFC 3339) and still pending.
    async fn pending_before(&self, cutoff: &str) -> Result<Vec<Self::Pending>, sqlx::Error>;
}

/// Runs `work` on its own task, so a saga finishes even when the caller that started it goes
/// away (its deadline, a reset stream), in the caller's trace (task-locals do not cross
/// `tokio::spawn` by themselves). The caller's deadline stays behind: the saga's peer calls
/// keep their own timeout.
pub fn detached<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::Instrument;
    let trace = crate::observe::telemetry::current_traceparent();
    let span = tracing::Span::current();
    tokio::spawn(
        async move {
            match trace {
                Some(traceparent) => crate::observe::telemetry::in_trace(traceparent, work).await,
                None => work.await,
            }
        }
        .instrument(span),
    )
}

/// Fails fast, before anything is recorded, while the peer's breaker is open.
pub fn precheck<S: SyncSaga>(saga: &S) -> Result<(), S::Error> {
    saga.peer().check().map_err(S::Error::from)
}

/// Asks the peer about a request the caller just recorded, and settles it.
pub async fn complete<S: SyncSaga>(saga: &S, pending: S::Pending) -> Result<S::Settled, S::Error> {
    let answer = saga.ask(&pending).await;
    saga.settle(pending, answer).await
}

/// A copy of a request whose first is still pending (a client's retry while the first is
/// being paid) answers once the first settles, as the first caller will, rather than
/// "pending", which its client could only poll for. It looks again, from every 10 ms to
/// every 100 ms, for as long as the first one's peer call may still take, counted from when
/// the first was `recorded` (RFC 3339, as `now_rfc3339` writes it): a copy of a request
/// left pending by a process that died mid-call answers at once what is recorded, and the
/// sweep settles the rest.
pub async fn settled<T, F, Fut>(
    peer: &Peer,
    first: T,
    recorded: &str,
    is_pending: impl Fn(&T) -> bool,
    mut look: F,
) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, sqlx::Error>>,
{
    let bound = peer.longest_call() + SETTLE_MARGIN;
    // Same fixed-width format: text order is time order. Never past `bound` from now either,
    // whatever `recorded` says (a clock set back, another replica's clock ahead).
    let until = tokio::time::Instant::now() + bound;
    let may_settle = || {
        tokio::time::Instant::now() < until
            && recorded >= crate::observe::telemetry::rfc3339_before(bound).as_str()
    };
    let mut pause = FIRST_LOOK;
    let mut now = first;
    while is_pending(&now) && may_settle() {
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LAST_LOOK);
        match look().await? {
            Some(newer) => now = newer,
            None => break,
        }
    }
    Ok(now)
}

const FIRST_LOOK: Duration = Duration::from_millis(10);
const LAST_LOOK: Duration = Duration::from_millis(100);
/// Beyond the peer call: the settling transaction's own time.
const SETTLE_MARGIN: Duration = Duration::from_millis(500);

/// Settles what a crash left pending, every few seconds, until `stop`. A peer still
/// unreachable leaves the rest for the next round.
pub async fn sweep<S: SyncSaga>(name: &str, saga: &S, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = stop.cancelled() => return,
        }
        let cutoff = crate::observe::telemetry::rfc3339_before(ABANDONED_AFTER);
        let pending = match saga.pending_before(&cutoff).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, name, "cannot read pending requests");
                continue;
            }
        };
        for request in pending {
            let answer = saga.ask(&request).await;
            if matches!(&answer, Err(error) if error.is_unavailable()) {
                break;
            }
            match saga.settle(request, answer).await {
                Ok(_) => tracing::info!(name, "abandoned request settled"),
                Err(_) => tracing::info!(name, "abandoned request settled as failed"),
            }
        }
    }
}
