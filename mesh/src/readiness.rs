//! Health follows the dependencies: every service reports SERVING only while JetStream is
//! connected and every store answers, so a probe takes a replica out of rotation when it
//! cannot do its work (and back when it can).
use std::time::Duration;

use async_nats::connection::State;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::store::Store;

const EVERY: Duration = Duration::from_secs(1);

/// Sets every service (and the whole server, "") to `status`.
pub async fn set_all(health: &HealthReporter, services: &[&'static str], status: ServingStatus) {
    for name in services {
        health.set_service_status(*name, status).await;
    }
    health.set_service_status("", status).await;
}

/// Re-checks NATS and the stores every second until `stop`.
pub async fn watch(
    health: HealthReporter,
    services: Vec<&'static str>,
    nats: async_nats::Client,
    stores: Vec<Store>,
    stop: CancellationToken,
) {
    let mut serving = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
        let mut ready = nats.connection_state() == State::Connected;
        for store in &stores {
            let ping = sqlx::query("SELECT 1").execute(store.reader());
            ready &= matches!(tokio::time::timeout(EVERY, ping).await, Ok(Ok(_)));
        }
        if ready != serving && !stop.is_cancelled() {
            serving = ready;
            tracing::warn!(serving, "dependencies changed; health updated");
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_all(&health, &services, status).await;
        }
    }
}
