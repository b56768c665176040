//! Health follows what each context needs to do its work: the broker answering, its store
//! answering reads and writes, and its outbox relay and consumers running. A context that
//! lacks one reports NOT_SERVING for its services (and the server as a whole, "", while any
//! context does), so a probe takes the replica out of rotation and puts it back when it heals.
//!
//! Readiness and liveness differ as Kubernetes' probes do. Readiness (each service, and "")
//! follows the broker and the store at once: a replica that cannot reach them leaves the
//! Service within a second. A relay or consumer that cannot run counts only once it has been
//! down for `TASK_GRACE`: a JetStream leader election restarts the consumers of every replica
//! at the same moment, and taking all of them out of rotation for it would turn a broker
//! failover into an outage of calls the outbox would have absorbed. Liveness
//! (the `liveness` service) turns NOT_SERVING only when some context has been unable to work
//! for longer than the grace period (store or JetStream lost, a consumer or relay that cannot
//! run): a broker failover or a database restart passes without a restart, a process wedged
//! for good is restarted. Both turn SERVING again as soon as the context can work.
//!
//! The same pass samples the backlog gauges: outbox rows and the age of the oldest, dead
//! letters, and each durable consumer's pending and unapplied events.
use std::time::{Duration, Instant};

use async_nats::connection::State;
use async_nats::jetstream;
use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::storage::sql;
use crate::storage::store::Store;
use crate::tasks::Running;

const EVERY: Duration = Duration::from_secs(1);
/// The health service a liveness probe asks (`grpc.service: liveness`).
pub const LIVENESS: &str = "liveness";
/// How long a relay or consumer may be down (restarting through an election) before its
/// context reports NOT_SERVING.
pub const TASK_GRACE: Duration = Duration::from_secs(20);
/// The single SQLite writer may be busy with a group commit: give it longer than a read.
const WRITER_PING: Duration = Duration::from_secs(3);

/// One context as health sees it.
#[derive(Clone)]
pub struct Watched {
    /// `vod.payment`.
    pub context: String,
    pub services: Vec<&'static str>,
    pub store: Store,
    /// Its relay and consumers, by name.
    pub tasks: Vec<(String, Running)>,
    /// (app, durable) of each consumer, for the pending gauge.
    pub durables: Vec<(String, String)>,
}

/// Sets every service (and the whole server, "") to `status`.
pub async fn set_all(health: &HealthReporter, services: &[&'static str], status: ServingStatus) {
    for name in services {
        health.set_service_status(*name, status).await;
    }
    health.set_service_status("", status).await;
}

/// Re-checks every context each second until `stop`; liveness fails after `grace` of a
/// context not ready.
pub async fn watch(
    health: HealthReporter,
    nats: async_nats::Client,
    watched: Vec<Watched>,
    grace: Duration,
    stop: CancellationToken,
) {
    // The gauges are sampled on their own: a broker that hangs must never hold up health.
    // Owned: stopped with the watcher and awaited before it returns.
    let sampler = tokio::spawn(sample_every_second(
        jetstream::new(nats.clone()),
        watched.clone(),
        stop.clone(),
    ));
    watch_health(&health, &nats, &watched, grace, &stop).await;
    let _ = sampler.await;
}

async fn watch_health(
    health: &HealthReporter,
    nats: &async_nats::Client,
    watched: &[Watched],
    grace: Duration,
    stop: &CancellationToken,
) {
    let js = jetstream::new(nats.clone());
    let mut serving: Vec<bool> = vec![true; watched.len()];
    // Since when each context's relay or consumers have been down without a break.
    let mut tasks_down_since: Vec<Option<Instant>> = vec![None; watched.len()];
    let mut all_serving = true;
    // Since when some context has been not ready without a break; liveness counts from it.
    let mut stuck_since: Option<Instant> = None;
    let mut alive = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
        let connected =
            nats.connection_state() == State::Connected && broker_answers(nats, &js).await;
        // Every context reaches its broker and store, and runs its relay and consumers.
        let mut working = true;
        for (i, context) in watched.iter().enumerate() {
            let tasks_up = context.tasks.iter().all(|(_, running)| running.get());
            let since = &mut tasks_down_since[i];
            let tasks_ok = if tasks_up {
                *since = None;
                true
            } else {
                since.get_or_insert_with(Instant::now).elapsed() < TASK_GRACE
            };
            let reachable = connected && store_answers(&context.store).await;
            working &= reachable && tasks_up;
            let ready = reachable && tasks_ok;
            if ready != serving[i] {
                serving[i] = ready;
                let down: Vec<&str> = context
                    .tasks
                    .iter()
                    .filter(|(_, r)| !r.get())
                    .map(|(n, _)| n.as_str())
                    .collect();
                tracing::warn!(
                    context = context.context,
                    serving = ready,
                    ?down,
                    "health changed"
                );
                for name in &context.services {
                    health.set_service_status(*name, status(ready)).await;
                }
            }
        }
        let all = serving.iter().all(|s| *s);
        if all != all_serving {
            all_serving = all;
            health.set_service_status("", status(all)).await;
        }
        for (context, ready) in watched.iter().zip(&serving) {
            let ready = if *ready { 1.0 } else { 0.0 };
            metrics::gauge!(crate::observe::metrics::CONTEXT_READY, "context" => context.context.clone())
                .set(ready);
        }
        let since = *stuck_since.get_or_insert_with(Instant::now);
        if working {
            stuck_since = None;
        }
        let live = working || since.elapsed() < grace;
        if live != alive {
            alive = live;
            tracing::warn!(live, grace_secs = grace.as_secs_f64(), "liveness changed");
            health.set_service_status(LIVENESS, status(live)).await;
        }
    }
}

/// Nobody subscribes here: the broker node itself answers at once with "no responders".
const PING_SUBJECT: &str = "_MEDIAMESH.health";

/// A round trip to the broker, not just the connection state: a broker that hangs (stopped,
/// partitioned) keeps the TCP connection open long after it stopped answering. Either answer
/// will do: JetStream's account info, or the node's own "no responders" to a subject nobody
/// serves. The second matters in a cluster, where the meta leader alone answers the first:
/// losing that one node must not turn every replica of every context NOT_SERVING at once for
/// the election (JetStream trouble shows where it bites, in the relays and consumers). The
/// first covers a broker whose permissions refuse the mesh that subject.
async fn broker_answers(nats: &async_nats::Client, js: &jetstream::Context) -> bool {
    use async_nats::client::RequestErrorKind;
    let ping = async {
        match tokio::time::timeout(EVERY, nats.request(PING_SUBJECT, "".into())).await {
            Ok(Ok(_)) => true,
            Ok(Err(error)) => error.kind() == RequestErrorKind::NoResponders,
            Err(_) => false,
        }
    };
    let account = async {
        matches!(
            tokio::time::timeout(EVERY, js.query_account()).await,
            Ok(Ok(_))
        )
    };
    let (ping, account) = tokio::join!(ping, account);
    ping || account
}

fn status(ready: bool) -> ServingStatus {
    if ready {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

async fn store_answers(store: &Store) -> bool {
    let read = sql::query("SELECT 1").execute(store.reader());
    let write = sql::query("SELECT 1").execute(store.writer());
    matches!(tokio::time::timeout(EVERY, read).await, Ok(Ok(_)))
        && matches!(tokio::time::timeout(WRITER_PING, write).await, Ok(Ok(_)))
}

async fn sample_every_second(
    js: jetstream::Context,
    watched: Vec<Watched>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
        for context in &watched {
            sample(&js, context).await;
        }
    }
}

/// The longest a gauge waits for the broker or a store.
const SAMPLE_TIMEOUT: Duration = Duration::from_millis(500);

/// Backlog gauges for one context; a failed or slow sample is skipped, never fatal.
async fn sample(js: &jetstream::Context, context: &Watched) {
    use crate::observe::metrics::*;
    let label = context.context.clone();
    let outbox = sql::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM mesh_outbox")
        .fetch_one(context.store.reader());
    if let Ok(Ok(row)) = tokio::time::timeout(SAMPLE_TIMEOUT, outbox).await {
        let n: i64 = row.try_get("n").unwrap_or(0);
        let oldest: Option<i64> = row.try_get("oldest").ok().flatten();
        let age = match oldest {
            Some(at) if n > 0 => {
                (crate::observe::telemetry::unix_millis() - at).max(0) as f64 / 1000.0
            }
            _ => 0.0,
        };
        metrics::gauge!(OUTBOX_BACKLOG, "context" => label.clone()).set(n as f64);
        metrics::gauge!(OUTBOX_OLDEST_SECONDS, "context" => label.clone()).set(age);
    }
    let letters = sql::query_scalar::<i64>("SELECT COUNT(*) FROM mesh_dead_letters")
        .fetch_one(context.store.reader());
    if let Ok(Ok(n)) = tokio::time::timeout(SAMPLE_TIMEOUT, letters).await {
        metrics::gauge!(DEAD_LETTERS, "context" => label.clone()).set(n as f64);
    }
    for (name, running) in &context.tasks {
        let up = if running.get() { 1.0 } else { 0.0 };
        metrics::gauge!(TASK_RUNNING, "task" => name.clone()).set(up);
    }
    for (app, durable) in &context.durables {
        let stream = js.get_stream(crate::events::nats::stream_name(app));
        let Ok(Ok(stream)) = tokio::time::timeout(SAMPLE_TIMEOUT, stream).await else {
            continue;
        };
        let info = stream.consumer_info(durable);
        if let Ok(Ok(info)) = tokio::time::timeout(SAMPLE_TIMEOUT, info).await {
            metrics::gauge!(CONSUMER_PENDING, "consumer" => durable.clone())
                .set(info.num_pending as f64);
            // Lag: events in the stream this consumer has not applied yet, delivered or not.
            let lag = info.num_pending + info.num_ack_pending as u64;
            metrics::gauge!(CONSUMER_LAG, "consumer" => durable.clone()).set(lag as f64);
        }
    }
}
