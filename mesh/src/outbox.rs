//! The outbox relay: publishes committed events to JetStream in commit order, waits for each
//! PubAck, then deletes them. A crash between commit and publish loses nothing: the rows stay
//! and are published again with the same `Nats-Msg-Id`, which JetStream deduplicates.
use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use sqlx::Row;
use tokio_util::sync::CancellationToken;

use crate::event::MSG_ID;
use crate::nats::to_header_map;
use crate::store::Store;

const BATCH: i64 = 512;
/// How often the relay looks even without a wake-up (rows left by a crashed run).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// After a wake-up, how long to let more commits gather: under load one relay pass then
/// carries many events (one SELECT, one DELETE, one broker round trip) for 1 ms of latency.
const LINGER: Duration = Duration::from_millis(1);

/// Runs until `stop` is cancelled, then flushes what is left (best effort) and returns.
pub async fn relay(store: Store, js: jetstream::Context, context: String, stop: CancellationToken) {
    let mut backoff = Duration::from_millis(50);
    loop {
        match relay_batch(&store, &js).await {
            Ok(0) => {
                if stop.is_cancelled() {
                    return;
                }
                tokio::select! {
                    _ = store.outbox_signal().notified() => tokio::time::sleep(LINGER).await,
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stop.cancelled() => {}
                }
            }
            Ok(_) => backoff = Duration::from_millis(50),
            Err(error) => {
                tracing::warn!(%error, context, "outbox relay failed; retrying");
                if stop.is_cancelled() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Publishes one batch; returns how many events it relayed.
async fn relay_batch(store: &Store, js: &jetstream::Context) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT seq, event_id, subject, headers, payload FROM mesh_outbox ORDER BY seq LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(store.reader())
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Send the whole batch before awaiting acks: one round trip per batch, order kept on
    // the single connection.
    let mut acks = Vec::with_capacity(rows.len());
    let mut published = Vec::with_capacity(rows.len());
    for row in &rows {
        published.push(row.try_get::<i64, _>("seq")?);
        let event_id: String = row.try_get("event_id")?;
        let subject: String = row.try_get("subject")?;
        let headers: String = row.try_get("headers")?;
        let payload: Vec<u8> = row.try_get("payload")?;
        let mut headers: BTreeMap<String, String> = serde_json::from_str(&headers)?;
        headers.insert(MSG_ID.to_owned(), event_id);
        let publish = PublishMessage::build()
            .payload(payload.into())
            .headers(to_header_map(&headers));
        acks.push(js.send_publish(subject, publish).await?);
    }
    for ack in acks {
        ack.await?;
    }
    metrics::counter!(crate::metrics::PUBLISHED).increment(rows.len() as u64);
    // Delete exactly what was published: on PostgreSQL a lower seq can commit after a
    // higher one, so a range would drop an event never sent.
    let list: Vec<String> = published.iter().map(i64::to_string).collect();
    sqlx::query(&format!(
        "DELETE FROM mesh_outbox WHERE seq IN ({})",
        list.join(",")
    ))
    .execute(store.writer())
    .await?;
    Ok(rows.len())
}
