//! The live console on the admin port (`/`): the context map of what this process runs,
//! drawn from the contexts' registrations as `mediamesh map` is, and once a second the
//! figures an operator looks at: per event edge the rate, per context readiness, calls/s,
//! p99, outbox backlog, consumer lag and dead letters, per sync call the breaker state; and
//! the dead letters themselves, replayed through the same function as the command line.
//!
//! One sampler makes each second's snapshot for every open page (server-sent events), and
//! only while a page is open (or a peer's console asks): an admin port nobody watches costs
//! nothing. With `--admin-peer`s, the contexts other processes run are merged in from their
//! own admin ports (`merge`, `peers`), so one page shows the mesh.
mod figures;
pub mod merge;
pub mod peers;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::calls::resilience::Peer;
use crate::context::ContextInfo;
use crate::events::deadletters;
use crate::events::policy::EventType;
use crate::observe::metrics as m;
use crate::storage::store::Store;
use figures::{Reading, Sample};
use merge::{PeerInput, PeerStatus, PeerView};
use peers::{AdminPeer, Answer};

/// The page, its script and its style, embedded: no build step, nothing fetched elsewhere.
pub const PAGE: &str = include_str!("console/index.html");
pub const SCRIPT: &str = include_str!("console/console.js");
pub const STYLE: &str = include_str!("console/console.css");

const EVERY: Duration = Duration::from_secs(1);
/// A peer's console that asked for this one's snapshot keeps the sampler running this long.
const ASKED_KEEPS: Duration = Duration::from_secs(3);
/// Failed asks in a row before a peer shows as unreachable (one slow answer is not an outage).
const FAILURES_UNREACHABLE: u32 = 2;
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Map {
    pub apps: Vec<App>,
    /// Contexts called or heard from but run elsewhere (`vod.payment`, or `vod.*` for an
    /// event of an app none of whose publishers runs here).
    pub elsewhere: Vec<String>,
    pub calls: Vec<Call>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct App {
    pub app: String,
    pub contexts: Vec<Node>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Node {
    pub id: String,
    pub role: String,
    pub rpcs: Vec<String>,
    /// The events it publishes: how a peer's map names the publisher of an `app.*` edge.
    #[serde(default)]
    pub publishes: Vec<String>,
    /// The admin URL of the process running it, when that is a peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Call {
    pub from: String,
    pub to: String,
    pub rpc: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
            publishes: info.publishes.iter().map(|e| (*e).to_owned()).collect(),
            process: None,
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
    /// The admin peers and whether they answer (empty in what a peer is served).
    pub peers: Vec<PeerStatus>,
    /// Changes when the merged map does: the page draws it again.
    pub map_version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
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
    /// The admin URL of the peer process running it; None: run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Its process does not answer: these figures are not current.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallState {
    pub from: String,
    pub to: String,
    /// `closed`, `open` or `half-open`.
    pub breaker: &'static str,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The map of what runs here.
    map: Map,
    metrics: PrometheusHandle,
    /// The latest snapshot as one server-sent event frame, shared by every open page.
    snapshots: watch::Sender<bytes::Bytes>,
    /// Open pages at most: each holds a frame while its client reads it.
    pub streams: Arc<tokio::sync::Semaphore>,
    links: Vec<Link>,
    /// The map with the peers' contexts merged in, and its version (the page's cue to draw
    /// it again).
    merged: Mutex<(u64, Arc<Map>)>,
    /// What `/api/snapshot` serves (this process's map and latest figures) and when made.
    own: Mutex<Option<(Instant, bytes::Bytes)>>,
    /// When a peer's console last asked for it.
    asked: Mutex<Option<Instant>>,
}

/// An admin peer and what it last answered.
struct Link {
    peer: AdminPeer,
    state: Mutex<LinkState>,
}

#[derive(Default)]
struct LinkState {
    /// Its last answer (an unreachable peer's contexts stay drawn, marked), and when.
    view: Option<Arc<PeerView>>,
    at: Option<Instant>,
    /// Asks in a row it failed.
    failures: u32,
    error: Option<String>,
}

impl Link {
    fn read(&self) -> (PeerStatus, Option<Arc<PeerView>>) {
        let state = self.state.lock().expect("peer lock");
        let (name, error) = if state.failures >= FAILURES_UNREACHABLE {
            ("unreachable", state.error.clone())
        } else if state.at.is_some_and(|at| at.elapsed() < ASKED_KEEPS) {
            // Figures as fresh as the last answer; older ones (the page was closed a while,
            // or the peer is warming up again) are not shown as current.
            ("ready", None)
        } else {
            ("connecting", None)
        };
        let status = PeerStatus {
            url: self.peer.url(),
            state: name,
            error,
        };
        (status, state.view.clone())
    }

    fn record(&self, answer: Answer) {
        let mut state = self.state.lock().expect("peer lock");
        match answer {
            Answer::View(view) => {
                state.view = Some(Arc::new(*view));
                state.at = Some(Instant::now());
                state.failures = 0;
                state.error = None;
            }
            Answer::Warming => state.failures = 0,
            Answer::Failed(why) => {
                state.failures = state.failures.saturating_add(1);
                state.error = Some(why);
            }
        }
    }
}

/// The merged map as `/console/map` serves it, with its version.
#[derive(Serialize)]
pub struct Versioned {
    #[serde(flatten)]
    map: Arc<Map>,
    version: u64,
}

impl Console {
    pub fn new(
        parts: Vec<Part>,
        metrics: PrometheusHandle,
        admin_peers: Vec<AdminPeer>,
    ) -> Arc<Console> {
        let registered: Vec<_> = parts.iter().map(|p| (p.info, p.consumes.clone())).collect();
        let map = map_of(&registered);
        let links = admin_peers
            .into_iter()
            .map(|peer| Link {
                peer,
                state: Mutex::default(),
            })
            .collect();
        Arc::new(Console {
            parts,
            merged: Mutex::new((0, Arc::new(map.clone()))),
            map,
            metrics,
            snapshots: watch::channel(bytes::Bytes::new()).0,
            streams: Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS)),
            links,
            own: Mutex::default(),
            asked: Mutex::default(),
        })
    }

    /// The map the page draws: what runs here and what the admin peers run.
    pub fn map(&self) -> Versioned {
        let (version, map) = self.merged.lock().expect("map lock").clone();
        Versioned { map, version }
    }

    pub fn has_peers(&self) -> bool {
        !self.links.is_empty()
    }

    /// This process's own map and latest figures (JSON) for a peer's console; None while
    /// there are none yet (the sampler starts on this ask).
    pub fn own_view(&self) -> Option<bytes::Bytes> {
        *self.asked.lock().expect("asked lock") = Some(Instant::now());
        let own = self.own.lock().expect("own lock");
        own.as_ref()
            .filter(|(at, _)| at.elapsed() < ASKED_KEEPS)
            .map(|(_, json)| json.clone())
    }

    /// Asks every admin peer for its snapshot each second while a page is open here, all at
    /// once and each within `peers::FETCH_TIMEOUT`; the sampler merges the latest answers.
    pub async fn follow_peers(self: Arc<Console>, stop: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.cancelled() => return,
            }
            if self.snapshots.receiver_count() == 0 {
                continue;
            }
            let asks = self.links.iter().map(|l| peers::fetch(&l.peer));
            let answers = futures::future::join_all(asks).await;
            for (link, answer) in self.links.iter().zip(answers) {
                link.record(answer);
            }
            let held: Vec<_> = self.links.iter().map(Link::read).collect();
            let map = merge::merge_map(&self.map, &inputs(&held));
            let mut merged = self.merged.lock().expect("map lock");
            if *merged.1 != map {
                *merged = (merged.0 + 1, Arc::new(map));
            }
        }
    }

    /// The page's snapshot: this process's with its peers' figures merged in.
    fn with_peers(&self, own: Snapshot) -> Snapshot {
        if self.links.is_empty() {
            return own;
        }
        let held: Vec<_> = self.links.iter().map(Link::read).collect();
        let (version, map) = self.merged.lock().expect("map lock").clone();
        let mut snapshot = merge::merge_snapshot(own, &map, &inputs(&held));
        snapshot.map_version = version;
        snapshot
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
            let watched = self.snapshots.receiver_count() > 0;
            let asked = self
                .asked
                .lock()
                .expect("asked lock")
                .is_some_and(|at| at.elapsed() < ASKED_KEEPS);
            if !watched && !asked {
                // Rates restart from the next reading when a page opens again.
                sampler = Sampler::default();
                *self.own.lock().expect("own lock") = None;
                continue;
            }
            let snapshot = sampler.next(&self).await;
            let own = merge::OwnView {
                map: &self.map,
                snapshot: &snapshot,
            };
            let own = serde_json::to_vec(&own).expect("snapshot serializes");
            *self.own.lock().expect("own lock") = Some((Instant::now(), own.into()));
            if !watched {
                continue;
            }
            let snapshot = self.with_peers(snapshot);
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

fn inputs(held: &[(PeerStatus, Option<Arc<PeerView>>)]) -> Vec<PeerInput<'_>> {
    held.iter()
        .map(|(status, view)| PeerInput {
            status,
            view: view.as_deref(),
        })
        .collect()
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
                    ..Figures::default()
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
