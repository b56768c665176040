//! Finishes purchases a crash left PENDING (recorded, payment outcome unknown): asks payment
//! again with the same idempotency key and settles them. Nobody was answered for these, so
//! completing them is safe; a payment that cannot be reached leaves them for the next round.
use std::time::Duration;

use crate::checkout::Checkout;
use crate::store;

/// Older than any in-flight checkout can be (the pay call times out well before).
const ABANDONED_AFTER: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_secs(5);

pub async fn finish_abandoned(checkout: Checkout) {
    loop {
        tokio::time::sleep(EVERY).await;
        let cutoff = mediamesh_mesh::telemetry::rfc3339_before(ABANDONED_AFTER);
        let pending = match store::pending_before(checkout.store(), &cutoff).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, "cannot read pending purchases");
                continue;
            }
        };
        for purchase in pending {
            let paid = checkout.pay(&purchase).await;
            if let Err(status) = &paid
                && status.code() == tonic::Code::Unavailable
            {
                break; // payment is down: try the rest next round
            }
            let id = purchase.id.clone();
            match checkout.settle(purchase, paid).await {
                Ok(p) => {
                    tracing::info!(purchase_id = %id, status = p.status.as_str(), "abandoned purchase settled")
                }
                Err(status) => {
                    tracing::info!(purchase_id = %id, %status, "abandoned purchase failed")
                }
            }
        }
    }
}
