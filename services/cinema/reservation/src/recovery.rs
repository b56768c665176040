//! Settles reservations a crash left PENDING (seat held, payment outcome unknown): asks
//! payment again with the same idempotency key.
use std::time::Duration;

use crate::booking::Booking;
use crate::store;

const ABANDONED_AFTER: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_secs(5);

pub async fn finish_abandoned(booking: Booking) {
    loop {
        tokio::time::sleep(EVERY).await;
        let cutoff = mediamesh_mesh::telemetry::rfc3339_before(ABANDONED_AFTER);
        let pending = match store::pending_before(booking.store(), &cutoff).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, "cannot read pending reservations");
                continue;
            }
        };
        for reservation in pending {
            let paid = booking.pay(&reservation).await;
            if matches!(&paid, Err(status) if status.code() == tonic::Code::Unavailable) {
                break; // payment is down: the rest next round
            }
            let id = reservation.id.clone();
            let settled = booking.settle(reservation, paid).await;
            tracing::info!(rsv_id = %id, ok = settled.is_ok(), "abandoned reservation settled");
        }
    }
}
