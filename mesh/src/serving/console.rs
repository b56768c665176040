//! The live console on the admin port (`/`): the context map of what this process runs,
//! drawn from the contexts' registrations as `mediamesh map` is, and once a second the
//! figures an operator looks at: per event edge the rate, per context readiness, calls/s,
//! p99, outbox backlog, consumer lag and dead letters, per sync call the breaker state; and
//! the dead letters themselves, replayed through the same function as the command line.
//!
//! One sampler makes each second's snapshot for every open page (server-sent events), and
//! only while a page is open: an admin port nobody watches costs nothing.
mod figures;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use tokio::sync::watch;

use crate::calls::resilience::Peer;
use crate::context::ContextInfo;
use crate::events::deadletters;
use crate::events::policy::EventType;
use crate::observe::metrics as m;
use crate::storage::store::Store;
use figures::{Reading, Sample};

/// The page, its script and its style, embedded: no build step, nothing fetched elsewhere.
pub const PAGE: &str = include_str!("console/index.html");
pub const SCRIPT: &str = include_str!("console/console.js");
pub const STYLE: &str = include_str!("console/console.css");

const EVERY: Duration = Duration::from_secs(1);
/// Dead letters listed per context: the page shows the oldest; the CLI lists them all.
const LETTERS_SHOWN: usize = 50;
/// Characters of a letter's header value or error the page shows (the CLI lists them whole):
/// a broker takes 64 KiB of headers, and 50 such letters a context made megabytes a second.
const FIELD_SHOWN: usize = 256;
/// Pages open at once; the next is refused (503) until one closes.
pub const MAX_STREAMS: usize = 32;

/// A letter as the page shows it: long header values and errors cut, marked with `…`.
fn shown(mut letter: deadletters::Summary) -> deadletters::Summary {
    let cut = |s: &mut String| {
        if let Some((at, _)) = s.char_indices().nth(FIELD_SHOWN) {
            s.truncate(at);
            s.push('…');
        }
    };
    letter.headers.values_mut().for_each(cut);
    cut(&mut letter.error);
    letter
}

/// One context run here, as the console sees it.
pub struct Part {
    pub info: &'static ContextInfo,
    pub store: Store,
    /// Its sync calls' peers, by callee (`vod.payment`): the breakers the console shows.
    pub peers: BTreeMap<String, Peer>,
    /// The event types its policies consume.
    pub consumes: Vec<EventType>,
}

/// The context map: contexts grouped by app, sync calls and event edges.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Map {
    pub apps: Vec<App>,
    /// Contexts called or heard from but run elsewhere (`vod.payment`, or `vod.*` for an
    /// event of an app none of whose publishers runs here).
    pub elsewhere: Vec<String>,
    pub calls: Vec<Call>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct App {
    pub app: String,
    pub contexts: Vec<Node>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Node {
    pub id: String,
    pub role: String,
    pub rpcs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Call {
    pub from: String,
    pub to: String,
    pub rpc: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub event: String,
}

/// The map of contexts from their registrations and the events their policies consume:
/// the console's and `mediamesh map`'s (which draws it as Mermaid).
pub fn map_of(contexts: &[(&'static ContextInfo, Vec<EventType>)]) -> Map {
    let mut apps: Vec<App> = Vec::new();
    for (info, _) in contexts {
        let node = Node {
            id: info.id(),
            role: info.role.to_owned(),
            rpcs: info
                .services
                .iter()
                .flat_map(|(_, rpcs)| rpcs.iter().map(|r| (*r).to_owned()))
                .collect(),
        };
        match apps.iter_mut().find(|a| a.app == info.app) {
            Some(app) => app.contexts.push(node),
            None => apps.push(App {
                app: info.app.to_owned(),
                contexts: vec![node],
            }),
        }
    }
    let local = |id: &str| contexts.iter().any(|(info, _)| info.id() == id);
    let mut elsewhere = Vec::new();
    let mut calls = Vec::new();
    let mut edges = Vec::new();
    for (info, consumes) in contexts {
        for (callee, rpc) in info.calls {
            if !local(callee) && !elsewhere.iter().any(|e| e == callee) {
                elsewhere.push((*callee).to_owned());
            }
            calls.push(Call {
                from: info.id(),
                to: (*callee).to_owned(),
                rpc: (*rpc).to_owned(),
            });
        }
        for event in consumes {
            let publishers: Vec<String> = contexts
                .iter()
                .map(|(p, _)| p)
                .filter(|p| p.app == event.app && p.publishes.contains(&event.name.as_str()))
                .map(|p| p.id())
                .collect();
            let publishers = if publishers.is_empty() {
                let any = format!("{}.*", event.app);
                if !elsewhere.contains(&any) {
                    elsewhere.push(any.clone());
                }
                vec![any]
            } else {
                publishers
            };
            for from in publishers {
                edges.push(Edge {
                    from,
                    to: info.id(),
                    event: event.name.clone(),
                });
            }
        }
    }
    Map {
        apps,
        elsewhere,
        calls,
        edges,
    }
}

/// One second's figures.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Unix milliseconds.
    pub at: i64,
    pub contexts: BTreeMap<String, Figures>,
    /// In the map's order.
    pub calls: Vec<CallState>,
    /// In the map's order.
    pub edges: Vec<EdgeRate>,
    pub dead_letters: Vec<Letter>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// None until health's first pass.
    pub ready: Option<bool>,
    pub calls_per_sec: f64,
    /// None when no call was served in the last second.
    pub p99_ms: Option<f64>,
    pub outbox: i64,
    /// None for a context without a consumer.
    pub lag: Option<i64>,
    /// The lag rose on the last readings without going down: the consumer falls behind.
    pub lag_growing: bool,
    pub dead_letters: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallState {
    pub from: String,
    pub to: String,
    /// `closed`, `open` or `half-open`.
    pub breaker: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeRate {
    pub from: String,
    pub to: String,
    pub event: String,
    /// Events applied per second.
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Letter {
    pub context: String,
    #[serde(flatten)]
    pub letter: deadletters::Summary,
}

/// The console of one process.
pub struct Console {
    parts: Vec<Part>,
    map: Map,
    metrics: PrometheusHandle,
    /// The latest snapshot as one server-sent event frame, shared by every open page.
    snapshots: watch::Sender<bytes::Bytes>,
    /// Open pages at most: each holds a frame while its client reads it.
    pub streams: Arc<tokio::sync::Semaphore>,
}

impl Console {
    pub fn new(parts: Vec<Part>, metrics: PrometheusHandle) -> Arc<Console> {
        let registered: Vec<_> = parts.iter().map(|p| (p.info, p.consumes.clone())).collect();
        let map = map_of(&registered);
        Arc::new(Console {
            parts,
            map,
            metrics,
            snapshots: watch::channel(bytes::Bytes::new()).0,
            streams: Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS)),
        })
    }

    pub fn map(&self) -> &Map {
        &self.map
    }

    /// Each second's snapshot as JSON, from the next one on.
    pub fn subscribe(&self) -> watch::Receiver<bytes::Bytes> {
        let mut receiver = self.snapshots.subscribe();
        receiver.mark_unchanged();
        receiver
    }

    /// Makes a snapshot each second while someone listens, until `stop`.
    pub async fn sample(self: Arc<Console>, stop: tokio_util::sync::CancellationToken) {
        let mut sampler = Sampler::default();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.cancelled() => return,
            }
            if self.snapshots.receiver_count() == 0 {
                // Rates restart from the next reading when a page opens again.
                sampler = Sampler::default();
                continue;
            }
            let snapshot = sampler.next(&self).await;
            let json = serde_json::to_string(&snapshot).expect("snapshot serializes");
            // Formatted once: a page that reads slowly holds this frame, not a copy of it.
            self.snapshots
                .send_replace(bytes::Bytes::from(format!("data: {json}\n\n")));
        }
    }

    /// Replays dead letters of context `context` (the one event `id`) through the same
    /// function as `mediamesh deadletters replay`; None when the context is not run here.
    pub async fn replay(&self, context: &str, id: &str) -> Option<Result<usize, sqlx::Error>> {
        let part = self.parts.iter().find(|p| p.info.id() == context)?;
        Some(deadletters::replay(&part.store, Some(id)).await)
    }
}

/// Per context, its calls' latency histogram: `(upper bound, count)` pairs.
type Buckets = HashMap<String, Vec<(f64, f64)>>;

/// What one snapshot needs of the one before: counters and histograms, lags.
#[derive(Default)]
struct Sampler {
    before: Option<(Instant, Reading, Buckets)>,
    /// Per context: its last lag and how many readings in a row it rose without falling.
    lags: HashMap<String, (i64, u32)>,
}

impl Sampler {
    async fn next(&mut self, console: &Console) -> Snapshot {
        let samples = figures::parse(&console.metrics.render());
        let now = Instant::now();
        let service_of = service_contexts(&console.parts);
        let mut counters = Reading::default();
        let mut buckets = Buckets::new();
        let mut gauges: HashMap<(&str, String), f64> = HashMap::new();
        for s in &samples {
            match s.name.as_str() {
                m::CALLS => {
                    if let Some(context) = method_context(s, &service_of) {
                        counters.add(format!("calls {context}"), s.value);
                    }
                }
                name if name == format!("{}_bucket", m::CALL_SECONDS) => {
                    let le = s.label("le").and_then(parse_le);
                    if let (Some(context), Some(le)) = (method_context(s, &service_of), le) {
                        add_bucket(buckets.entry(context).or_default(), le, s.value);
                    }
                }
                m::APPLIED => {
                    let (consumer, event) = (s.label("consumer"), s.label("event"));
                    if let (Some(consumer), Some(event)) = (consumer, event) {
                        counters.add(format!("applied {consumer} {event}"), s.value);
                    }
                }
                m::CONTEXT_READY | m::OUTBOX_BACKLOG | m::DEAD_LETTERS => {
                    if let Some(context) = s.label("context") {
                        gauges.insert((gauge_name(&s.name), context.to_owned()), s.value);
                    }
                }
                m::CONSUMER_LAG => {
                    if let Some(consumer) = s.label("consumer") {
                        gauges.insert((m::CONSUMER_LAG, consumer.to_owned()), s.value);
                    }
                }
                _ => {}
            }
        }
        let previous = self.before.take();
        let (seconds, before, buckets_before) = match &previous {
            Some((at, reading, buckets)) => (
                now.duration_since(*at).as_secs_f64(),
                Some(reading),
                Some(buckets),
            ),
            None => (0.0, None, None),
        };
        let gauge = |name: &'static str, key: &str| gauges.get(&(name, key.to_owned())).copied();
        let mut snapshot = Snapshot {
            at: crate::observe::telemetry::unix_millis(),
            ..Snapshot::default()
        };
        for part in &console.parts {
            let id = part.info.id();
            let p99 = buckets.get(&id).and_then(|now| {
                let before = buckets_before.and_then(|b| b.get(&id));
                before.and_then(|before| figures::p99(now, before))
            });
            let durable = format!("{}_{}", part.info.app, part.info.name);
            let lag = (!part.consumes.is_empty())
                .then(|| gauge(m::CONSUMER_LAG, &durable).unwrap_or(0.0) as i64);
            let lag_growing = lag.is_some_and(|lag| self.lag_rises(&id, lag));
            let letters = gauge(m::DEAD_LETTERS, &id).unwrap_or(0.0) as i64;
            snapshot.contexts.insert(
                id.clone(),
                Figures {
                    ready: gauge(m::CONTEXT_READY, &id).map(|r| r > 0.0),
                    calls_per_sec: counters.rate(before, &format!("calls {id}"), seconds),
                    p99_ms: p99.map(|s| s * 1000.0),
                    outbox: gauge(m::OUTBOX_BACKLOG, &id).unwrap_or(0.0) as i64,
                    lag,
                    lag_growing,
                    dead_letters: letters,
                },
            );
            if letters > 0
                && let Ok(Ok(list)) =
                    tokio::time::timeout(EVERY / 2, deadletters::oldest(&part.store, LETTERS_SHOWN))
                        .await
            {
                snapshot.dead_letters.extend(list.iter().map(|l| Letter {
                    context: id.clone(),
                    letter: shown(l.summary()),
                }));
            }
        }
        for call in &console.map.calls {
            let breaker = console
                .parts
                .iter()
                .find(|p| p.info.id() == call.from)
                .and_then(|p| p.peers.get(&call.to))
                .map(Peer::breaker_state)
                .unwrap_or("closed");
            snapshot.calls.push(CallState {
                from: call.from.clone(),
                to: call.to.clone(),
                breaker,
            });
        }
        for edge in &console.map.edges {
            let (app, name) = edge.to.split_once('.').unwrap_or_default();
            let key = format!("applied {app}_{name} {}", edge.event);
            snapshot.edges.push(EdgeRate {
                from: edge.from.clone(),
                to: edge.to.clone(),
                event: edge.event.clone(),
                rate: counters.rate(before, &key, seconds),
            });
        }
        self.before = Some((now, counters, buckets));
        snapshot
    }

    /// Records `lag` for `context`; true when it rose twice or more without going down.
    fn lag_rises(&mut self, context: &str, lag: i64) -> bool {
        let (last, rises) = self.lags.entry(context.to_owned()).or_insert((lag, 0));
        if lag == 0 || lag < *last {
            *rises = 0;
        } else if lag > *last {
            *rises += 1;
        }
        *last = lag;
        lag > 0 && *rises >= 2
    }
}

/// `mediamesh.vod.v1.PurchaseService` -> `vod.purchase`, for the services run here.
fn service_contexts(parts: &[Part]) -> HashMap<&'static str, String> {
    parts
        .iter()
        .flat_map(|p| p.info.services.iter().map(|(s, _)| (*s, p.info.id())))
        .collect()
}

/// The context serving a sample's `grpc_method` (`/<service>/<rpc>`).
fn method_context(sample: &Sample, services: &HashMap<&'static str, String>) -> Option<String> {
    let method = sample.label("grpc_method")?;
    let service = method.strip_prefix('/')?.split('/').next()?;
    services.get(service).cloned()
}

fn parse_le(le: &str) -> Option<f64> {
    if le == "+Inf" {
        Some(f64::INFINITY)
    } else {
        le.parse().ok()
    }
}

/// Sums a context's methods' buckets bound by bound.
fn add_bucket(buckets: &mut Vec<(f64, f64)>, le: f64, count: f64) {
    match buckets.iter_mut().find(|(b, _)| *b == le) {
        Some((_, n)) => *n += count,
        None => buckets.push((le, count)),
    }
}

fn gauge_name(name: &str) -> &'static str {
    match name {
        m::CONTEXT_READY => m::CONTEXT_READY,
        m::OUTBOX_BACKLOG => m::OUTBOX_BACKLOG,
        _ => m::DEAD_LETTERS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_is_shown_with_long_values_cut() {
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("x".to_owned(), "가".repeat(60_000));
        headers.insert("short".to_owned(), "ok".to_owned());
        let letter = shown(deadletters::Summary {
            consumer: "vod_mileage".into(),
            event_id: "e".into(),
            subject: "vod.payment.PaymentApproved".into(),
            headers,
            payload_bytes: 1,
            error: "e".repeat(10_000),
            deliveries: 5,
            failed_at: String::new(),
        });
        assert_eq!(letter.headers["x"].chars().count(), FIELD_SHOWN + 1);
        assert_eq!(letter.headers["short"], "ok");
        assert!(letter.error.ends_with('…') && letter.error.len() < 300);
    }

    #[test]
    fn a_lag_that_keeps_rising_is_flagged_and_one_that_drains_is_not() {
        let mut sampler = Sampler::default();
        let flags: Vec<bool> = [0, 3, 3, 8, 12, 12, 30, 5, 9, 0]
            .iter()
            .map(|lag| sampler.lag_rises("vod.mileage", *lag))
            .collect();
        assert_eq!(
            flags,
            [
                false, false, false, true, true, true, true, false, false, false
            ]
        );
    }
}
