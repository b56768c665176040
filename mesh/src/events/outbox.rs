//! The outbox relay: publishes committed events to JetStream in commit order, waits for each
//! PubAck, then deletes them. A crash between commit and publish loses nothing: the rows stay
//! and are published again with the same `Nats-Msg-Id`, which JetStream deduplicates.
//!
//! One row can never stop the relay: a row NATS can never carry (a header it cannot encode,
//! a message over the server's max payload, unreadable headers) moves to the dead letters
//! with its reason in the same transaction that removes it, and the rows after it flow on.
//! Broker failures are transient: the relay backs off (capped) and tries the same rows again.
use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use tokio_util::sync::CancellationToken;

use crate::events::deadletters::{self, DeadLetter};
use crate::events::event::Event;
use crate::events::event::MSG_ID;
use crate::events::nats::to_header_map;
use crate::storage::sql;
use crate::storage::store::{MeshTables, Migration, OutboxRow, Store, Tx};
use crate::tasks::Running;

/// The events layer's tables in every context's database: the outbox, the consumers' inbox,
/// the dead letters, the tally and the parts (cheap, and no migration order to get wrong).
pub const TABLES: MeshTables = MeshTables {
    setup: &[
        SETUP,
        crate::events::tally::MIGRATION,
        crate::events::parts::MIGRATION,
    ],
    changes: CHANGES,
};

const SETUP: Migration = "
CREATE TABLE IF NOT EXISTS mesh_outbox (
    seq SERIAL_PK,
    event_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    headers TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS mesh_inbox (
    event_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (event_id, consumer)
);
CREATE TABLE IF NOT EXISTS mesh_dead_letters (
    event_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload BLOB NOT NULL,
    error TEXT NOT NULL,
    deliveries BIGINT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (event_id, consumer)
);
";

/// Append only: each runs once, in order.
const CHANGES: &[Migration] = &[
    // When a row entered the outbox (unix ms), for the age of the oldest unpublished event.
    "ALTER TABLE mesh_outbox ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0",
    // Dead letters keep the whole event: headers too, so a replay is the same event.
    "ALTER TABLE mesh_dead_letters ADD COLUMN headers TEXT NOT NULL DEFAULT '{}'",
    // Wholes' sums kept beside their parts (they were summed on every read).
    crate::events::parts::SUMS_FROM_PARTS,
    // Only the parts' sums read by whole, and they are kept now.
    "DROP INDEX IF EXISTS mesh_parts_by_whole",
];

/// The largest event the outbox takes (payload and headers): far above anything a valid
/// request raises (every field is bounded at the edge), well under NATS's 1 MiB default.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// An event over `MAX_EVENT_BYTES`: refused before it reaches the outbox, so the state
/// change that raised it rolls back.
#[derive(Debug, thiserror::Error)]
#[error("event {subject} is {size} bytes, over the {MAX_EVENT_BYTES}-byte bound")]
pub struct EventTooLarge {
    pub subject: String,
    pub size: usize,
}

/// Raising events inside a transaction: they reach the outbox, and so JetStream, only if the
/// transaction commits.
#[async_trait::async_trait]
pub trait Raise {
    /// Records an event in the outbox; the relay publishes it after commit. An event over
    /// `MAX_EVENT_BYTES` is refused (`EventTooLarge` inside `sqlx::Error::Encode`).
    async fn raise(&mut self, event: Event) -> Result<(), sqlx::Error>;
}

#[async_trait::async_trait]
impl Raise for Tx {
    async fn raise(&mut self, event: Event) -> Result<(), sqlx::Error> {
        let size = event.headers_json().len() + event.payload.len() + event.subject.len();
        if size > MAX_EVENT_BYTES {
            return Err(sqlx::Error::Encode(Box::new(EventTooLarge {
                subject: event.subject,
                size,
            })));
        }
        record(self, event).await
    }
}

/// Records an event as it is (a dead letter being replayed goes back verbatim): staged in
/// the transaction, written to the outbox just before it commits (`write_rows`).
pub(crate) async fn record(tx: &mut Tx, event: Event) -> Result<(), sqlx::Error> {
    let headers = event.headers_json();
    tx.stage_outbox(OutboxRow {
        event_id: event.id,
        subject: event.subject,
        headers,
        payload: event.payload,
        created_at: crate::observe::telemetry::unix_millis(),
    });
    Ok(())
}

/// Writes staged outbox rows in raise order with as few statements as can be kept prepared:
/// chunks of 64, 16, 4 and 1 rows (the statement cache holds four texts, not one per count).
pub(crate) async fn write_rows(
    conn: &mut crate::storage::store::Conn,
    rows: Vec<OutboxRow>,
) -> Result<(), sqlx::Error> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let left = rows.len();
        let chunk = [64, 16, 4, 1].into_iter().find(|n| *n <= left).unwrap_or(1);
        let mut query = sql::query(insert_sql(chunk));
        for row in rows.by_ref().take(chunk) {
            query = query
                .bind(row.event_id)
                .bind(row.subject)
                .bind(row.headers)
                .bind(row.payload)
                .bind(row.created_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The INSERT of `rows` outbox rows (64, 16, 4 or 1), built once each.
fn insert_sql(rows: usize) -> &'static str {
    static SQL: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        [64, 16, 4, 1].map(|n| {
            let values: Vec<String> = (0..n)
                .map(|i| {
                    let p = i * 5;
                    format!(
                        "(${}, ${}, ${}, ${}, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5
                    )
                })
                .collect();
            format!(
                "INSERT INTO mesh_outbox (event_id, subject, headers, payload, created_at) \
                 VALUES {}",
                values.join(", ")
            )
        })
    });
    match rows {
        64 => &sql[0],
        16 => &sql[1],
        4 => &sql[2],
        _ => &sql[3],
    }
}

const BATCH: i64 = 512;
/// How often the relay looks even without a wake-up (rows left by a crashed run).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// After a wake-up, how long to let more commits gather: under load one relay pass then
/// carries many events (one SELECT, one DELETE, one broker round trip) for 1 ms of latency.
const LINGER: Duration = Duration::from_millis(1);
/// Failed passes in a row before the relay reports itself not running (health).
const FAILURES_BEFORE_DOWN: u32 = 3;

/// What the relay needs besides its store.
#[derive(Clone)]
pub struct Relay {
    pub store: Store,
    pub js: jetstream::Context,
    /// `vod.payment`, for logs and metrics.
    pub context: String,
    /// The broker's largest message (headers included).
    pub max_payload: usize,
    pub running: Running,
}

impl Relay {
    /// Runs until `stop` is cancelled, then flushes what is left (best effort) and returns.
    pub async fn run(self, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(50);
        let mut failures = 0u32;
        loop {
            match self.pass().await {
                Ok(published) => {
                    backoff = Duration::from_millis(50);
                    failures = 0;
                    self.running.set(true);
                    self.store.backlog().relay_up(true);
                    if published > 0 {
                        continue;
                    }
                    if stop.is_cancelled() {
                        return;
                    }
                    tokio::select! {
                        _ = self.store.outbox_signal().notified() => tokio::time::sleep(LINGER).await,
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = stop.cancelled() => {}
                    }
                }
                Err(error) => {
                    failures += 1;
                    if failures >= FAILURES_BEFORE_DOWN {
                        self.running.set(false);
                        self.store.backlog().relay_up(false);
                    }
                    metrics::counter!(crate::observe::metrics::RELAY_ERRORS, "context" => self.context.clone())
                        .increment(1);
                    tracing::warn!(%error, context = self.context, failures, "outbox relay failed; retrying");
                    if stop.is_cancelled() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Publishes one batch; returns how many rows it settled (published or dead-lettered).
    async fn pass(&self) -> anyhow::Result<usize> {
        let rows = sql::query(
            "SELECT seq, event_id, subject, headers, payload FROM mesh_outbox ORDER BY seq LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(self.store.reader())
        .await?;
        if rows.is_empty() {
            self.store.backlog().relayed(0, true);
            return Ok(0);
        }
        // Send the whole batch before awaiting acks: one round trip per batch, order kept on
        // the single connection.
        let mut acks = Vec::with_capacity(rows.len());
        let mut published = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("seq")?;
            let event_id: String = row.try_get("event_id")?;
            let subject: String = row.try_get("subject")?;
            let headers: String = row.try_get("headers")?;
            let payload: Vec<u8> = row.try_get("payload")?;
            let message = match self.message(&event_id, &subject, &headers, &payload) {
                Ok(message) => message,
                Err(reason) => {
                    self.dead_letter(seq, event_id, subject, &headers, payload, reason)
                        .await?;
                    continue;
                }
            };
            acks.push(self.js.send_publish(subject, message).await?);
            published.push(seq);
        }
        for ack in acks {
            ack.await?;
        }
        metrics::counter!(crate::observe::metrics::PUBLISHED).increment(published.len() as u64);
        if !published.is_empty() {
            // Delete exactly what was published: on PostgreSQL a lower seq can commit after
            // a higher one, so a range would drop an event never sent.
            let list: Vec<String> = published.iter().map(i64::to_string).collect();
            sql::query(&format!(
                "DELETE FROM mesh_outbox WHERE seq IN ({})",
                list.join(",")
            ))
            .execute(self.store.writer())
            .await?;
        }
        self.store.backlog().relayed(rows.len(), false);
        Ok(rows.len())
    }

    /// The NATS message for a row, or why NATS can never carry it.
    fn message(
        &self,
        event_id: &str,
        subject: &str,
        headers: &str,
        payload: &[u8],
    ) -> Result<PublishMessage, String> {
        let mut headers: BTreeMap<String, String> =
            serde_json::from_str(headers).map_err(|e| format!("unreadable headers: {e}"))?;
        headers.insert(MSG_ID.to_owned(), event_id.to_owned());
        let map = to_header_map(&headers).map_err(|e| e.to_string())?;
        // What the server counts against max_payload: payload plus the encoded header block.
        let header_bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
        let size = payload.len() + header_bytes + 12;
        if size > self.max_payload {
            return Err(format!(
                "{size} bytes exceed the broker's max payload of {} bytes",
                self.max_payload
            ));
        }
        if subject.is_empty() || subject.contains(|c: char| c.is_whitespace()) {
            return Err("invalid subject".to_owned());
        }
        Ok(PublishMessage::build()
            .payload(payload.to_vec().into())
            .headers(map))
    }

    /// Moves a row NATS can never carry to the dead letters, in one transaction.
    async fn dead_letter(
        &self,
        seq: i64,
        event_id: String,
        subject: String,
        headers: &str,
        payload: Vec<u8>,
        reason: String,
    ) -> anyhow::Result<()> {
        tracing::error!(
            context = self.context,
            event = event_id,
            subject,
            reason,
            "event cannot be published; dead-lettered"
        );
        let letter = DeadLetter {
            event_id,
            consumer: deadletters::OUTBOX.to_owned(),
            subject,
            headers: serde_json::from_str(headers).unwrap_or_default(),
            payload,
            error: reason,
            deliveries: 0,
            failed_at: crate::observe::telemetry::now_rfc3339(),
        };
        let mut tx = self.store.begin().await?;
        deadletters::record(tx.conn(), &letter).await?;
        sql::query("DELETE FROM mesh_outbox WHERE seq = $1")
            .bind(seq)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
