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

    /// What was recorded before `cutoff` (RFC 3339) and is still in flight.
    async fn in_flight_before(&self, cutoff: &str) -> Result<Vec<Self::Item>, sqlx::Error>;

    /// Asks the peer again and settles `item`. `Err` with `UNAVAILABLE` means the peer is
    /// down: the sweep stops for this round.
    async fn settle_again(&self, item: Self::Item) -> Result<(), tonic::Status>;
}

/// Sweeps `work` every few seconds, forever.
pub async fn sweep<A: Abandoned>(name: &'static str, work: A) {
    loop {
        tokio::time::sleep(EVERY).await;
        let cutoff = crate::telemetry::rfc3339_before(ABANDONED_AFTER);
        let items = match work.in_flight_before(&cutoff).await {
            Ok(items) => items,
            Err(error) => {
                tracing::warn!(%error, name, "cannot read work in flight");
                continue;
            }
        };
        for item in items {
            match work.settle_again(item).await {
                Ok(()) => tracing::info!(name, "abandoned work settled"),
                Err(status) if status.code() == tonic::Code::Unavailable => break,
                Err(status) => tracing::info!(name, %status, "abandoned work failed"),
            }
        }
    }
}
