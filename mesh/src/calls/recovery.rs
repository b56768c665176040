//! Settling work a crash left half done. A context that records a request, calls a peer
//! synchronously and then settles (purchase -> Pay, reservation -> Pay) can die between the
//! two: the record stays in flight. Nobody was answered for it, so asking the peer again with
//! the same idempotency key and settling is safe. A peer that is down leaves the rest for the
//! next round.
use std::time::Duration;

/// Older than any call in flight can be (the peer call times out well before).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_secs(5);

/// Work that can be found in flight and settled again.
#[async_trait::async_trait]
pub trait Abandoned: Send + Sync + 'static {
    type Item: Send;
    type Answer: Send;

    /// What was recorded before `cutoff` (RFC 3339) and is still in flight.
    async fn in_flight_before(&self, cutoff: &str) -> Result<Vec<Self::Item>, sqlx::Error>;

    /// Asks the peer again, with the item's idempotency key.
    async fn ask_again(&self, item: &Self::Item) -> Result<Self::Answer, tonic::Status>;

    /// Records the peer's answer on the item, as the original call would have.
    async fn record(
        &self,
        item: Self::Item,
        answer: Result<Self::Answer, tonic::Status>,
    ) -> Result<(), tonic::Status>;
}

/// Sweeps `work` every few seconds, forever. A peer still down leaves the rest for the
/// next round.
pub async fn sweep<A: Abandoned>(name: &'static str, work: A) {
    loop {
        tokio::time::sleep(EVERY).await;
        let cutoff = crate::observe::telemetry::rfc3339_before(ABANDONED_AFTER);
        let items = match work.in_flight_before(&cutoff).await {
            Ok(items) => items,
            Err(error) => {
                tracing::warn!(%error, name, "cannot read work in flight");
                continue;
            }
        };
        for item in items {
            let answer = work.ask_again(&item).await;
            if matches!(&answer, Err(status) if status.code() == tonic::Code::Unavailable) {
                break;
            }
            match work.record(item, answer).await {
                Ok(()) => tracing::info!(name, "abandoned work settled"),
                Err(status) => tracing::info!(name, %status, "abandoned work failed"),
            }
        }
    }
}
