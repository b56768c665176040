//! Dead letters: events that can never be published (the outbox side, consumer `outbox`) or
//! never applied (a consumer's side). Each keeps the whole event (subject, headers, payload)
//! with its reason, so the rest flow on and an operator can list them and, once the cause is
//! fixed, replay them (`mediamesh deadletters list|replay`).
//!
//! A replay goes through the context's outbox under a fresh `Nats-Msg-Id` (the original
//! may still sit in JetStream's dedup window) and carries the original id in `Mm-Event-Id`,
//! which consumers key their inbox on: contexts that applied the event already skip it.
use std::collections::BTreeMap;

use crate::events::event::EVENT_ID;
use crate::storage::sql;
use crate::storage::store::Store;

/// The `consumer` of a letter the outbox relay could not publish.
pub const OUTBOX: &str = "outbox";

#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub event_id: String,
    /// The durable consumer that could not apply it, or `outbox`.
    pub consumer: String,
    pub subject: String,
    pub headers: BTreeMap<String, String>,
    pub payload: Vec<u8>,
    pub error: String,
    pub deliveries: i64,
    pub failed_at: String,
}

/// A letter as an operator reads it (`mediamesh deadletters list`, the admin console): the
/// event, its reason and deliveries; the payload only by its size.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub consumer: String,
    pub event_id: String,
    pub subject: String,
    pub headers: BTreeMap<String, String>,
    pub payload_bytes: usize,
    pub error: String,
    pub deliveries: i64,
    pub failed_at: String,
}

impl DeadLetter {
    pub fn summary(&self) -> Summary {
        Summary {
            consumer: self.consumer.clone(),
            event_id: self.event_id.clone(),
            subject: self.subject.clone(),
            headers: self.headers.clone(),
            payload_bytes: self.payload.len(),
            error: self.error.clone(),
            deliveries: self.deliveries,
            failed_at: self.failed_at.clone(),
        }
    }
}

/// Records a letter (once per event and consumer).
pub async fn record<'e>(
    on: impl sql::Executor<'e>,
    letter: &DeadLetter,
) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO mesh_dead_letters \
         (event_id, consumer, subject, headers, payload, error, deliveries, failed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(letter.event_id.clone())
    .bind(letter.consumer.clone())
    .bind(letter.subject.clone())
    .bind(serde_json::to_string(&letter.headers).expect("string map serializes"))
    .bind(letter.payload.clone())
    .bind(letter.error.clone())
    .bind(letter.deliveries)
    .bind(letter.failed_at.clone())
    .execute(on)
    .await?;
    metrics::counter!(crate::observe::metrics::DEAD_LETTERED, "consumer" => letter.consumer.clone())
        .increment(1);
    Ok(())
}

/// The letters of a context, oldest first; `id` narrows to one event.
pub async fn list(store: &Store, id: Option<&str>) -> Result<Vec<DeadLetter>, sqlx::Error> {
    select(store, id, i64::MAX).await
}

/// The `n` oldest letters of a context (what a page shows of a pile that may be large).
pub async fn oldest(store: &Store, n: usize) -> Result<Vec<DeadLetter>, sqlx::Error> {
    select(store, None, i64::try_from(n).unwrap_or(i64::MAX)).await
}

async fn select(
    store: &Store,
    id: Option<&str>,
    limit: i64,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let rows = sql::query(
        "SELECT event_id, consumer, subject, headers, payload, error, deliveries, failed_at \
         FROM mesh_dead_letters WHERE ($1 = '' OR event_id = $1) ORDER BY failed_at, event_id \
         LIMIT $2",
    )
    .bind(id.unwrap_or_default().to_owned())
    .bind(limit)
    .fetch_all(store.writer())
    .await?;
    rows.iter()
        .map(|row| {
            let headers: String = row.try_get("headers")?;
            Ok(DeadLetter {
                event_id: row.try_get("event_id")?,
                consumer: row.try_get("consumer")?,
                subject: row.try_get("subject")?,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                payload: row.try_get("payload")?,
                error: row.try_get("error")?,
                deliveries: row.try_get("deliveries")?,
                failed_at: row.try_get("failed_at")?,
            })
        })
        .collect()
}

/// Moves letters back into the outbox (all, or the one event `id`) in one transaction;
/// returns how many. The relay publishes them as soon as the context runs. The one replay
/// path: `mediamesh deadletters replay` and the admin console's replay both call it.
pub async fn replay(store: &Store, id: Option<&str>) -> Result<usize, sqlx::Error> {
    let letters = list(store, id).await?;
    let mut tx = store.begin().await?;
    for letter in &letters {
        let mut headers = letter.headers.clone();
        headers.insert(EVENT_ID.to_owned(), letter.event_id.clone());
        headers.remove(crate::events::event::MSG_ID);
        let event = crate::Event {
            id: uuid::Uuid::now_v7().to_string(),
            subject: letter.subject.clone(),
            headers,
            payload: letter.payload.clone(),
        };
        // Replayed verbatim, even past today's bound: the operator asked for this event.
        crate::events::outbox::record(&mut tx, event).await?;
        sql::query("DELETE FROM mesh_dead_letters WHERE event_id = $1 AND consumer = $2")
            .bind(letter.event_id.clone())
            .bind(letter.consumer.clone())
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(letters.len())
}
