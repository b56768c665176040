//! Durable pull consumers with exactly-once effects. Each (context, policy set) has one
//! durable consumer, shared by the context's replicas so scale-out gets each event once.
//! A handler's state change and the inbox row (event id) commit in one transaction, then the
//! message is acked: a redelivery finds the inbox row and is only acked again.
//!
//! Failures are sorted by what retrying can do: transient ones (database busy, pool timeout,
//! deadlock, peer down) are redelivered with a capped backoff for as long as it takes and are
//! never dead-lettered; poison (undecodable, invalid) is dead-lettered at once with the whole
//! event; anything else is retried a bounded number of times, then dead-lettered. Either way
//! the events after it flow on.
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::events::deadletters::{self, DeadLetter};
use crate::events::event::{Delivered, EVENT_ID, MSG_ID};
use crate::events::nats::{from_header_map, stream_name};
use crate::storage::sql;
use crate::storage::store::{Store, Tx, is_transient};
use crate::tasks::Running;

/// Deliveries before an event that keeps failing for an unknown reason is dead-lettered.
pub const MAX_DELIVERIES: i64 = 5;
/// The longest wait between redeliveries of a transient failure.
const MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(5);
/// Most events applied in one transaction.
const BATCH: usize = 128;
/// How long one pull request waits on the broker, and its idle heartbeat.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
const PULL_HEARTBEAT: Duration = Duration::from_secs(2);

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Will never apply (undecodable, violates an invariant): dead-letter at once.
    #[error("poison event: {0}")]
    Poison(String),
    /// Will apply once the world recovers (database busy, pool timeout, deadlock, peer
    /// down): redeliver with a capped backoff, never dead-letter.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Unknown whether it can ever apply: retried `MAX_DELIVERIES` times, then dead-lettered.
    #[error("failure: {0}")]
    Failed(String),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        if is_transient(&error) {
            HandlerError::Transient(error.to_string())
        } else {
            HandlerError::Failed(error.to_string())
        }
    }
}

/// A policy set: reacts to events inside the transaction the runtime opens. Contexts build
/// one with `events::policy::Policies` (typed, one handler per message type).
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError>;

    /// The event types it handles; its consumer's subjects are derived from them.
    fn events(&self) -> Vec<crate::events::policy::EventType>;
}

/// One durable consumer of a context.
#[derive(Clone)]
pub struct Subscription {
    /// Durable consumer name, e.g. `vod_mileage`.
    pub durable: String,
    /// The app whose stream is read.
    pub app: String,
    /// Subjects, e.g. `vod.*.PaymentApproved`.
    pub subjects: Vec<String>,
    pub handler: Arc<dyn Handler>,
}

impl Subscription {
    /// The one durable consumer (`<app>_<context>`) of context `app.name`, on the subjects
    /// its typed policies registered.
    pub fn of(app: &str, name: &str, handler: Arc<dyn Handler>) -> Subscription {
        Subscription {
            durable: format!("{app}_{name}"),
            app: app.to_owned(),
            subjects: handler
                .events()
                .iter()
                .map(|e| e.subject_filter())
                .collect(),
            handler,
        }
    }
}

/// Pulls and applies events until `stop` is cancelled; reconnects on broker errors, and says
/// it is not running (health) while it cannot consume.
pub async fn run(
    store: Store,
    js: jetstream::Context,
    sub: Subscription,
    stop: CancellationToken,
    running: Running,
) {
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        match consume(&store, &js, &sub, &stop, &running).await {
            Ok(()) => return,
            Err(error) => {
                running.set(false);
                tracing::warn!(%error, durable = sub.durable, "consumer failed; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn consume(
    store: &Store,
    js: &jetstream::Context,
    sub: &Subscription,
    stop: &CancellationToken,
    running: &Running,
) -> anyhow::Result<()> {
    let stream = js.get_stream(stream_name(&sub.app)).await?;
    // Create, or update to this version's subjects: a context that consumes a new event
    // after an upgrade must get it from its existing durable. Its replicas follow the
    // stream's: a durable made while the stream had one copy would otherwise stay on one
    // node after the stream grew to three, and stop with that node.
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(sub.durable.clone()),
            filter_subjects: sub.subjects.clone(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 1024,
            num_replicas: stream.cached_info().config.num_replicas,
            ..Default::default()
        })
        .await?;
    running.set(true);
    // Whatever has arrived (up to BATCH) is applied in one transaction: under load one
    // commit carries many events; idle, a batch is a single event and nothing waits.
    // Short pull requests with a heartbeat: a pull lost with the broker node it was sent to
    // (a cluster failover) is noticed in seconds, not after the default 30 s expiry.
    let mut messages = consumer
        .stream()
        .expires(PULL_EXPIRES)
        .heartbeat(PULL_HEARTBEAT)
        .messages()
        .await?
        .ready_chunks(BATCH);
    loop {
        let batch = tokio::select! {
            next = messages.next() => next,
            _ = stop.cancelled() => {
                release(&mut messages).await;
                return Ok(());
            }
        };
        let Some(batch) = batch else {
            anyhow::bail!("message stream ended");
        };
        let mut received = Vec::with_capacity(batch.len());
        for message in batch {
            let message = message?;
            let delivered = delivered(&message);
            received.push((message, delivered));
        }
        // A batch in hand is finished if it can be in a moment; one held up (a locked store)
        // is given back at shutdown rather than abandoned with the process.
        let finished = tokio::select! {
            done = take(store, sub, &received) => Some(done),
            _ = cancelled_for(stop, APPLY_GRACE) => None,
        };
        match finished {
            Some(done) => done?,
            None => {
                for (message, _) in &received {
                    hand_back(message).await;
                }
                release(&mut messages).await;
                return Ok(());
            }
        }
    }
}

/// Applies what one pull brought and settles each message.
async fn take(
    store: &Store,
    sub: &Subscription,
    received: &[(jetstream::Message, Delivered)],
) -> anyhow::Result<()> {
    let events: Vec<&Delivered> = received.iter().map(|(_, d)| d).collect();
    if received.len() > 1 && apply_all(store, sub, &events).await.is_ok() {
        for event in &events {
            count_applied(&sub.durable, event);
        }
        for (message, _) in received {
            message
                .ack()
                .await
                .map_err(|e| anyhow::anyhow!("ack: {e}"))?;
        }
        return Ok(());
    }
    // One at a time, so one bad event cannot hold back the others.
    for (message, delivered) in received {
        settle(store, sub, message, delivered).await?;
    }
    Ok(())
}

/// How long shutdown lets a batch in hand finish applying.
const APPLY_GRACE: Duration = Duration::from_secs(2);
/// How long shutdown collects what the broker had already sent this process.
const RELEASE_WINDOW: Duration = Duration::from_millis(500);
/// A released event's redelivery waits this long: longer than the window, so the pull still
/// open here cannot take it back before the process lets go.
const RELEASE_DELAY: Duration = Duration::from_secs(1);

async fn cancelled_for(stop: &CancellationToken, grace: Duration) {
    stop.cancelled().await;
    tokio::time::sleep(grace).await;
}

/// At shutdown, gives back what the broker delivered to this process but it did not apply.
/// Left alone, those events would wait out the 30 s ack wait before a replica or the
/// restarted process could have them: a lag spike on every rolling restart.
async fn release<S>(messages: &mut S)
where
    S: futures::Stream<Item = Vec<Result<jetstream::Message, pull::MessagesError>>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + RELEASE_WINDOW;
    while let Ok(Some(batch)) = tokio::time::timeout_at(deadline, messages.next()).await {
        for message in batch.into_iter().flatten() {
            hand_back(&message).await;
        }
    }
}

async fn hand_back(message: &jetstream::Message) {
    if let Err(error) = message.ack_with(AckKind::Nak(Some(RELEASE_DELAY))).await {
        tracing::warn!(%error, "could not give an event back; it returns after the ack wait");
    }
}

/// Counts an applied event by consumer and event name: the rate of each event edge of the
/// context map (the admin console). Names are bounded: the consumer's subject filters admit
/// only the event types its policies registered.
fn count_applied(consumer: &str, event: &Delivered) {
    metrics::counter!(
        crate::observe::metrics::APPLIED,
        "consumer" => consumer.to_owned(),
        "event" => event.name().to_owned()
    )
    .increment(1);
}

fn delivered(message: &jetstream::Message) -> Delivered {
    let headers = from_header_map(message.headers.as_ref());
    Delivered {
        id: headers
            .get(EVENT_ID)
            .or_else(|| headers.get(MSG_ID))
            .cloned()
            .unwrap_or_default(),
        subject: message.subject.to_string(),
        headers,
        payload: message.payload.clone(),
    }
}

/// Applies one event and acks it, naks it with backoff, or dead-letters it.
async fn settle(
    store: &Store,
    sub: &Subscription,
    message: &jetstream::Message,
    event: &Delivered,
) -> anyhow::Result<()> {
    let deliveries = message.info().map(|i| i.delivered).unwrap_or(1);
    let result = async {
        let mut tx = store.begin().await?;
        apply(&mut tx, sub, event).await?;
        tx.commit().await?;
        Ok::<_, HandlerError>(())
    }
    .await;
    let consumer = sub.durable.clone();
    match result {
        Ok(()) => {
            count_applied(&consumer, event);
            message
                .ack()
                .await
                .map_err(|e| anyhow::anyhow!("ack: {e}"))?
        }
        Err(HandlerError::Transient(error)) => {
            redeliver(message, event, &consumer, &error, deliveries).await?
        }
        Err(HandlerError::Failed(error)) if deliveries < MAX_DELIVERIES => {
            redeliver(message, event, &consumer, &error, deliveries).await?
        }
        Err(error) => {
            tracing::error!(%error, event = event.id, deliveries, "event dead-lettered");
            let letter = DeadLetter {
                event_id: event.id.clone(),
                consumer,
                subject: event.subject.clone(),
                headers: event.headers.clone(),
                payload: event.payload.to_vec(),
                error: error.to_string(),
                deliveries,
                failed_at: crate::observe::telemetry::now_rfc3339(),
            };
            deadletters::record(store.writer(), &letter).await?;
            message
                .ack()
                .await
                .map_err(|e| anyhow::anyhow!("ack: {e}"))?;
        }
    }
    Ok(())
}

/// Applies a batch in one transaction; any failure rolls all of it back. The inbox rows of
/// the whole batch go in first with a few multi-row statements (`fresh`), then the handler
/// runs for each event the inbox had not seen, in delivery order.
async fn apply_all(
    store: &Store,
    sub: &Subscription,
    events: &[&Delivered],
) -> Result<(), HandlerError> {
    if !events.iter().all(|e| crate::input::is_id(&e.id)) {
        // One at a time, so the bad one is dead-lettered alone.
        return Err(HandlerError::Poison("event id breaks the id rule".into()));
    }
    let mut tx = store.begin().await?;
    let mut fresh = fresh(&mut tx, &sub.durable, events).await?;
    for event in events {
        // A second copy of one id in the batch finds it taken by the first.
        if fresh.remove(&event.id) {
            handle(&mut tx, &sub.durable, sub.handler.as_ref(), event).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Records the batch's event ids in the inbox; returns those not recorded before (the
/// events to apply). Chunks of 64, 16, 4 and 1 keep the statements few and prepared.
async fn fresh(
    tx: &mut Tx,
    durable: &str,
    events: &[&Delivered],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let now = crate::observe::telemetry::now_rfc3339();
    let mut fresh = std::collections::HashSet::with_capacity(events.len());
    let mut rest = events;
    while !rest.is_empty() {
        let chunk = [64, 16, 4, 1]
            .into_iter()
            .find(|n| *n <= rest.len())
            .unwrap_or(1);
        let (head, tail) = rest.split_at(chunk);
        let mut query = sql::query(inbox_sql(chunk));
        for event in head {
            query = query
                .bind(event.id.clone())
                .bind(durable.to_owned())
                .bind(now.clone());
        }
        for row in query.fetch_all(tx.conn()).await? {
            fresh.insert(row.try_get::<String, _>("event_id")?);
        }
        rest = tail;
    }
    Ok(fresh)
}

/// The inbox INSERT of `rows` ids (64, 16, 4 or 1) that returns the ids it inserted.
fn inbox_sql(rows: usize) -> &'static str {
    static SQL: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        [64, 16, 4, 1].map(|n| {
            let values: Vec<String> = (0..n)
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            format!(
                "INSERT INTO mesh_inbox (event_id, consumer, applied_at) VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING event_id",
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

/// Applies one event exactly once within `tx`: inbox row first (a write, so SQLite takes the
/// write lock up front), then the handler, continuing the trace the event carries.
async fn apply(tx: &mut Tx, sub: &Subscription, event: &Delivered) -> Result<(), HandlerError> {
    apply_once(tx, &sub.durable, sub.handler.as_ref(), event).await
}

/// Applies `event` through `handler` once per event id for consumer `durable`, within `tx`.
pub async fn apply_once(
    tx: &mut Tx,
    durable: &str,
    handler: &dyn Handler,
    event: &Delivered,
) -> Result<(), HandlerError> {
    // The id goes into the inbox, logs and dead letters: it follows the one id rule like any
    // other (the mesh's own are UUIDs).
    if !crate::input::is_id(&event.id) {
        return Err(HandlerError::Poison(
            "event id is missing or breaks the id rule".into(),
        ));
    }
    let fresh = sql::query(
        "INSERT INTO mesh_inbox (event_id, consumer, applied_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(event.id.clone())
    .bind(durable.to_owned())
    .bind(crate::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if fresh == 0 {
        tracing::debug!(event = event.id, "event already applied");
        return Ok(());
    }
    handle(tx, durable, handler, event).await
}

/// Runs `handler` on an event the inbox took as fresh, continuing the trace it carries.
async fn handle(
    tx: &mut Tx,
    durable: &str,
    handler: &dyn Handler,
    event: &Delivered,
) -> Result<(), HandlerError> {
    let parent = event
        .headers
        .get(crate::events::event::TRACEPARENT)
        .map(String::as_str);
    let name = format!("{durable} {}", event.name());
    crate::observe::telemetry::hop(&name, "consumer", parent, handler.handle(tx, event)).await
}

/// Naks with a delay that doubles per delivery, capped: the stream behind it flows on.
async fn redeliver(
    message: &jetstream::Message,
    event: &Delivered,
    consumer: &str,
    error: &str,
    deliveries: i64,
) -> anyhow::Result<()> {
    metrics::counter!(crate::observe::metrics::REDELIVERED, "consumer" => consumer.to_owned())
        .increment(1);
    let delay = Duration::from_millis(100)
        .saturating_mul(2u32.saturating_pow(deliveries.clamp(0, 16) as u32))
        .min(MAX_REDELIVERY_DELAY);
    tracing::warn!(
        error,
        event = event.id,
        deliveries,
        "event failed; redelivering"
    );
    message
        .ack_with(AckKind::Nak(Some(delay)))
        .await
        .map_err(|e| anyhow::anyhow!("nak: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::event::Event;
    use crate::events::outbox::Raise;
    use mediamesh_proto::vod::v1 as pb;

    /// Records each event it applies and raises one event per application.
    struct Record;

    #[async_trait::async_trait]
    impl Handler for Record {
        async fn handle(&self, tx: &mut Tx, event: &Delivered) -> Result<(), HandlerError> {
            sql::query("INSERT INTO applied (event_id) VALUES ($1)")
                .bind(event.id.clone())
                .execute(tx.conn())
                .await?;
            let credited = pb::MileageCredited {
                purchase_id: event.id.clone(),
                ..Default::default()
            };
            tx.raise(Event::new("vod.test", &credited, &event.id, 1, &event.id))
                .await?;
            Ok(())
        }

        fn events(&self) -> Vec<crate::events::policy::EventType> {
            Vec::new()
        }
    }

    fn event(id: &str) -> Delivered {
        Delivered {
            id: id.to_owned(),
            subject: "vod.test.Tested".to_owned(),
            headers: Default::default(),
            payload: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_batch_applies_each_new_event_once_and_its_events_in_order() {
        let table = "CREATE TABLE IF NOT EXISTS applied (event_id TEXT NOT NULL)";
        let test = crate::testkit::TestStore::new(&[table]).await;
        let store = &test.store;
        let sub = Subscription::of("vod", "test", Arc::new(Record));

        apply_all(store, &sub, &[&event("c")]).await.unwrap();
        let batch = [event("a"), event("b"), event("a"), event("c")];
        let batch: Vec<&Delivered> = batch.iter().collect();
        apply_all(store, &sub, &batch).await.unwrap();

        let applied: Vec<String> = sql::query_scalar("SELECT event_id FROM applied ORDER BY rowid")
            .fetch_all(store.reader())
            .await
            .unwrap();
        assert_eq!(
            applied,
            ["c", "a", "b"],
            "the copy and the one applied before skipped"
        );
        let raised: Vec<Vec<u8>> =
            sql::query_scalar("SELECT payload FROM mesh_outbox ORDER BY seq")
                .fetch_all(store.reader())
                .await
                .unwrap();
        let raised: Vec<String> = raised
            .iter()
            .map(|p| {
                <pb::MileageCredited as prost::Message>::decode(p.as_slice())
                    .unwrap()
                    .purchase_id
            })
            .collect();
        assert_eq!(
            raised,
            ["c", "a", "b"],
            "one event per application, in order"
        );
        let inbox: i64 = sql::query_scalar("SELECT COUNT(*) FROM mesh_inbox")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(inbox, 3);
    }
}
