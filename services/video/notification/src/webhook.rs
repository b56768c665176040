//! The webhook sink: `MEDIAMESH_NOTIFICATION_WEBHOOK=http://host:port/path` makes every new
//! notification a pending delivery (written with it, in the consumer's transaction), which a
//! background task POSTs as JSON with an `Idempotency-Key` header. A failure (no answer, or
//! not 2xx) is retried later with a doubling backoff capped at a few seconds; the consumer
//! never waits for the webhook. A delivery is taken for a lease before it is sent, so two
//! instances do not send it together.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mediamesh_mesh::Store;
use tokio_util::sync::CancellationToken;

use crate::domain::backoff;
use crate::store::{self, Pending};

pub const ENV: &str = "MEDIAMESH_NOTIFICATION_WEBHOOK";
/// Idle wait between passes over the pending deliveries.
const POLL: Duration = Duration::from_millis(200);
/// Deliveries sent per pass.
const BATCH: i64 = 20;

#[derive(Clone)]
pub struct Webhook {
    url: String,
    client: reqwest::Client,
    first: Duration,
    cap: Duration,
    timeout: Duration,
}

impl Webhook {
    pub fn new(url: &str, first: Duration, cap: Duration) -> anyhow::Result<Webhook> {
        let timeout = Duration::from_secs(5);
        let parsed = reqwest::Url::parse(url)?;
        anyhow::ensure!(parsed.scheme() == "http", "{ENV} must be an http:// URL");
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Webhook {
            url: url.to_owned(),
            client,
            first,
            cap,
            timeout,
        })
    }

    /// The webhook configured by the environment, if any.
    pub fn from_env() -> anyhow::Result<Option<Webhook>> {
        match std::env::var(ENV) {
            Ok(url) if !url.is_empty() => Ok(Some(Webhook::new(
                &url,
                Duration::from_millis(200),
                Duration::from_secs(5),
            )?)),
            _ => Ok(None),
        }
    }

    async fn post(&self, p: &Pending) -> Result<(), String> {
        let answer = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", p.notification_id.clone())
            .body(p.payload.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", answer.status()))
        }
    }
}

/// Whether a webhook is configured (then the consumer queues deliveries).
pub fn configured() -> bool {
    std::env::var(ENV).is_ok_and(|url| !url.is_empty())
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One pass: sends the due deliveries; returns how many were taken.
pub async fn pass(store: &Store, hook: &Webhook) -> Result<usize, sqlx::Error> {
    let now = now_ms();
    let due = store::due(store, now, BATCH).await?;
    let mut taken = 0;
    for p in due {
        // The lease outlasts the request's timeout, so a taken delivery is not taken twice.
        if !store::claim(store, &p, now + ms(hook.timeout * 2)).await? {
            continue;
        }
        taken += 1;
        match hook.post(&p).await {
            Ok(()) => store::delivered(store, &p.notification_id).await?,
            Err(why) => {
                let attempts = p.attempts.saturating_add(1);
                let wait = backoff(
                    u32::try_from(p.attempts).unwrap_or(u32::MAX),
                    hook.first,
                    hook.cap,
                );
                tracing::warn!(notification_id = %p.notification_id, attempts, why, "webhook delivery failed; retrying");
                store::retry_at(store, &p.notification_id, attempts, now_ms() + ms(wait)).await?;
            }
        }
    }
    Ok(taken)
}

/// Sends pending deliveries until `stop`.
pub async fn run(store: Store, hook: Webhook, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let taken = match pass(&store, &hook).await {
            Ok(taken) => taken,
            Err(error) => {
                tracing::warn!(%error, "webhook pass failed");
                0
            }
        };
        if taken == 0 {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.cancelled() => return,
            }
        }
    }
}
