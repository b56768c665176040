//! The mesh on one page: the contexts other processes run, read from their admin ports
//! (`--admin-peer`), merged into this process's map and figures. What a peer sends is
//! untrusted input: cut to bounded lists and strings, numbers clamped, and a peer never
//! replaces a context run here (or by a peer named before it).
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{App, CallState, Edge, EdgeRate, Figures, Map, Node, Snapshot};

/// Characters of an id, app, role, rpc or event name a peer's answer keeps.
pub const NAME_SHOWN: usize = 100;
/// Contexts (and apps, and "elsewhere" names) a peer's answer keeps.
pub const CONTEXTS_SHOWN: usize = 256;
/// Calls and edges a peer's answer keeps.
pub const LINKS_SHOWN: usize = 1024;
/// RPCs and published events kept per context.
pub const NAMES_PER_CONTEXT: usize = 64;
/// Figures past this are a peer's nonsense, not a measurement.
const FIGURE_MAX: f64 = 1e12;

/// What `GET /api/snapshot` serves: this process's own map and latest figures, nothing of
/// its own peers (a console follows its peers, never theirs: no loops, no fan-out).
#[derive(Serialize)]
pub struct OwnView<'a> {
    pub map: &'a Map,
    pub snapshot: &'a Snapshot,
}

/// A peer's answer as read (then `bounded`).
#[derive(Debug, Clone, Deserialize)]
pub struct PeerView {
    pub map: Map,
    pub snapshot: PeerSnapshot,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerSnapshot {
    pub contexts: BTreeMap<String, Figures>,
    pub calls: Vec<PeerCall>,
    pub edges: Vec<EdgeRate>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeerCall {
    pub from: String,
    pub to: String,
    pub breaker: String,
}

/// A peer as the page sees it: `connecting` (no figures yet), `ready` or `unreachable`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeerStatus {
    /// Its admin URL, as configured here (never as the peer names itself).
    pub url: String,
    pub state: &'static str,
    /// Why it is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn cut(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
        s.push('…');
    }
}

fn cut_all(list: &mut Vec<String>, len: usize) {
    list.truncate(len);
    list.iter_mut().for_each(|s| cut(s, NAME_SHOWN));
}

fn clamp(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, FIGURE_MAX)
    } else {
        0.0
    }
}

fn clamp_i(x: i64) -> i64 {
    x.clamp(0, FIGURE_MAX as i64)
}

/// A peer's answer cut to what the page can show: bounded lists, bounded strings, figures
/// in range, and figures only for the contexts its map lists.
pub fn bounded(mut view: PeerView) -> PeerView {
    let map = &mut view.map;
    map.apps.truncate(CONTEXTS_SHOWN);
    let mut room = CONTEXTS_SHOWN;
    for app in &mut map.apps {
        cut(&mut app.app, NAME_SHOWN);
        app.contexts.truncate(room);
        room -= app.contexts.len();
        for node in &mut app.contexts {
            cut(&mut node.id, NAME_SHOWN);
            cut(&mut node.role, NAME_SHOWN);
            cut_all(&mut node.rpcs, NAMES_PER_CONTEXT);
            cut_all(&mut node.publishes, NAMES_PER_CONTEXT);
            node.process = None;
        }
    }
    map.apps.retain(|a| !a.contexts.is_empty());
    cut_all(&mut map.elsewhere, CONTEXTS_SHOWN);
    map.calls.truncate(LINKS_SHOWN);
    for call in &mut map.calls {
        for s in [&mut call.from, &mut call.to, &mut call.rpc] {
            cut(s, NAME_SHOWN);
        }
    }
    map.edges.truncate(LINKS_SHOWN);
    for edge in &mut map.edges {
        for s in [&mut edge.from, &mut edge.to, &mut edge.event] {
            cut(s, NAME_SHOWN);
        }
    }
    let ids: Vec<String> = map
        .apps
        .iter()
        .flat_map(|a| a.contexts.iter().map(|c| c.id.clone()))
        .collect();
    let snapshot = &mut view.snapshot;
    let mut contexts = BTreeMap::new();
    for (mut id, mut f) in std::mem::take(&mut snapshot.contexts) {
        cut(&mut id, NAME_SHOWN);
        if !ids.contains(&id) {
            continue;
        }
        f.calls_per_sec = clamp(f.calls_per_sec);
        f.p99_ms = f.p99_ms.map(clamp);
        f.outbox = clamp_i(f.outbox);
        f.lag = f.lag.map(clamp_i);
        f.dead_letters = clamp_i(f.dead_letters);
        f.process = None;
        f.unreachable = false;
        contexts.insert(id, f);
    }
    snapshot.contexts = contexts;
    snapshot.calls.truncate(LINKS_SHOWN);
    for call in &mut snapshot.calls {
        cut(&mut call.from, NAME_SHOWN);
        cut(&mut call.to, NAME_SHOWN);
        cut(&mut call.breaker, 16);
    }
    snapshot.edges.truncate(LINKS_SHOWN);
    for edge in &mut snapshot.edges {
        for s in [&mut edge.from, &mut edge.to, &mut edge.event] {
            cut(s, NAME_SHOWN);
        }
        edge.rate = clamp(edge.rate);
    }
    view
}

/// A peer's place in the merge: its URL, its state, and its last answer if it ever gave one
/// (an unreachable peer's contexts stay on the map, marked).
pub struct PeerInput<'a> {
    pub status: &'a PeerStatus,
    pub view: Option<&'a PeerView>,
}

/// This process's map with the contexts its peers run: each in its app, marked with the
/// process it runs in; an event heard from `app.*` drawn from the context that publishes it
/// once a peer names it; "elsewhere" left with what no process here or among the peers runs.
pub fn merge_map(local: &Map, peers: &[PeerInput]) -> Map {
    let mut apps = local.apps.clone();
    let mut calls = local.calls.clone();
    let mut edges = local.edges.clone();
    let mut known: Vec<String> = ids(&apps);
    for peer in peers {
        let Some(view) = peer.view else { continue };
        let mut owned = Vec::new();
        for app in &view.map.apps {
            for node in &app.contexts {
                if known.contains(&node.id) {
                    continue;
                }
                known.push(node.id.clone());
                owned.push(node.id.clone());
                let node = Node {
                    process: Some(peer.status.url.clone()),
                    ..node.clone()
                };
                match apps.iter_mut().find(|a| a.app == app.app) {
                    Some(mine) => mine.contexts.push(node),
                    None => apps.push(App {
                        app: app.app.clone(),
                        contexts: vec![node],
                    }),
                }
            }
        }
        let theirs = |id: &String| owned.contains(id);
        calls.extend(view.map.calls.iter().filter(|c| theirs(&c.from)).cloned());
        edges.extend(view.map.edges.iter().filter(|e| theirs(&e.to)).cloned());
    }
    let nodes: Vec<&Node> = apps.iter().flat_map(|a| &a.contexts).collect();
    let mut resolved: Vec<Edge> = Vec::new();
    for edge in edges {
        let publishers: Vec<&Node> = match edge.from.strip_suffix(".*") {
            Some(app) => nodes
                .iter()
                .filter(|n| n.id.split_once('.').is_some_and(|(a, _)| a == app))
                .filter(|n| n.publishes.contains(&edge.event))
                .copied()
                .collect(),
            None => Vec::new(),
        };
        for publisher in &publishers {
            resolved.push(Edge {
                from: publisher.id.clone(),
                ..edge.clone()
            });
        }
        if publishers.is_empty() {
            resolved.push(edge);
        }
    }
    resolved.dedup();
    let mut elsewhere: Vec<String> = Vec::new();
    let ends = calls
        .iter()
        .flat_map(|c| [&c.from, &c.to])
        .chain(resolved.iter().flat_map(|e| [&e.from, &e.to]));
    for id in ends {
        if !known.contains(id) && !elsewhere.contains(id) {
            elsewhere.push(id.clone());
        }
    }
    Map {
        apps,
        elsewhere,
        calls,
        edges: resolved,
    }
}

fn ids(apps: &[App]) -> Vec<String> {
    apps.iter()
        .flat_map(|a| a.contexts.iter().map(|c| c.id.clone()))
        .collect()
}

/// This process's snapshot with its peers' figures, in the merged map's order: a peer's
/// context carries its process and, while the peer does not answer, `unreachable`.
pub fn merge_snapshot(local: Snapshot, merged: &Map, peers: &[PeerInput]) -> Snapshot {
    let by_url: HashMap<&str, &PeerInput> =
        peers.iter().map(|p| (p.status.url.as_str(), p)).collect();
    let peer_of = |id: &str| -> Option<&PeerInput> {
        let node = merged
            .apps
            .iter()
            .flat_map(|a| &a.contexts)
            .find(|n| n.id == id)?;
        by_url.get(node.process.as_deref()?).copied()
    };
    let answering = |p: &PeerInput| p.status.state == "ready";
    let mut snapshot = Snapshot {
        contexts: local.contexts.clone(),
        dead_letters: local.dead_letters,
        at: local.at,
        ..Snapshot::default()
    };
    for node in merged.apps.iter().flat_map(|a| &a.contexts) {
        let Some(peer) = node.process.as_deref().and_then(|u| by_url.get(u)) else {
            continue;
        };
        let figures = peer
            .view
            .filter(|_| answering(peer))
            .and_then(|v| v.snapshot.contexts.get(&node.id).cloned());
        let figures = Figures {
            process: Some(peer.status.url.clone()),
            unreachable: peer.status.state == "unreachable",
            ..figures.unwrap_or_default()
        };
        snapshot.contexts.insert(node.id.clone(), figures);
    }
    for call in &merged.calls {
        let breaker = match peer_of(&call.from) {
            None => local
                .calls
                .iter()
                .find(|c| c.from == call.from && c.to == call.to)
                .map(|c| c.breaker)
                .unwrap_or("closed"),
            Some(peer) => peer
                .view
                .filter(|_| answering(peer))
                .and_then(|v| {
                    v.snapshot
                        .calls
                        .iter()
                        .find(|c| c.from == call.from && c.to == call.to)
                })
                .map(|c| breaker_state(&c.breaker))
                .unwrap_or("unknown"),
        };
        snapshot.calls.push(CallState {
            from: call.from.clone(),
            to: call.to.clone(),
            breaker,
        });
    }
    // An edge's rate is its consumer's: read where the consumer runs.
    let rate_in = |edges: &[EdgeRate], edge: &Edge| {
        edges
            .iter()
            .find(|e| e.to == edge.to && e.event == edge.event)
            .map(|e| e.rate)
            .unwrap_or(0.0)
    };
    for edge in &merged.edges {
        let rate = match peer_of(&edge.to) {
            None => rate_in(&local.edges, edge),
            Some(peer) => peer
                .view
                .filter(|_| answering(peer))
                .map(|v| rate_in(&v.snapshot.edges, edge))
                .unwrap_or(0.0),
        };
        snapshot.edges.push(EdgeRate {
            rate,
            ..edge_rate(edge)
        });
    }
    snapshot.peers = peers.iter().map(|p| p.status.clone()).collect();
    snapshot
}

fn edge_rate(edge: &Edge) -> EdgeRate {
    EdgeRate {
        from: edge.from.clone(),
        to: edge.to.clone(),
        event: edge.event.clone(),
        rate: 0.0,
    }
}

/// A peer's breaker state as one of ours; anything else is `unknown`.
fn breaker_state(state: &str) -> &'static str {
    match state {
        "closed" => "closed",
        "open" => "open",
        "half-open" => "half-open",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::console::Call;

    const PAYMENT: &str = "http://127.0.0.1:9465";

    fn node(id: &str, publishes: &[&str]) -> Node {
        Node {
            id: id.into(),
            role: "core".into(),
            rpcs: vec!["Do".into()],
            publishes: publishes.iter().map(|e| (*e).to_owned()).collect(),
            process: None,
        }
    }

    /// The shop's own map: purchase calls payment (run elsewhere); mileage hears payment's
    /// event from `vod.*`.
    fn shop() -> Map {
        Map {
            apps: vec![App {
                app: "vod".into(),
                contexts: vec![node("vod.purchase", &[]), node("vod.mileage", &[])],
            }],
            elsewhere: vec!["vod.payment".into(), "vod.*".into()],
            calls: vec![Call {
                from: "vod.purchase".into(),
                to: "vod.payment".into(),
                rpc: "Pay".into(),
            }],
            edges: vec![Edge {
                from: "vod.*".into(),
                to: "vod.mileage".into(),
                event: "PaymentApproved".into(),
            }],
        }
    }

    fn shop_snapshot() -> Snapshot {
        let mut snapshot = Snapshot::default();
        for id in ["vod.purchase", "vod.mileage"] {
            let figures = Figures {
                ready: Some(true),
                ..Figures::default()
            };
            snapshot.contexts.insert(id.into(), figures);
        }
        snapshot.calls.push(CallState {
            from: "vod.purchase".into(),
            to: "vod.payment".into(),
            breaker: "open",
        });
        snapshot.edges.push(EdgeRate {
            from: "vod.*".into(),
            to: "vod.mileage".into(),
            event: "PaymentApproved".into(),
            rate: 12.5,
        });
        snapshot
    }

    /// What the payment process serves, read back as a peer's answer; it also claims
    /// vod.purchase, which runs here.
    fn payment() -> PeerView {
        let map = Map {
            apps: vec![App {
                app: "vod".into(),
                contexts: vec![
                    node("vod.payment", &["PaymentApproved"]),
                    node("vod.purchase", &[]),
                ],
            }],
            elsewhere: vec![],
            calls: vec![],
            edges: vec![],
        };
        let mut snapshot = Snapshot::default();
        let figures = Figures {
            ready: Some(true),
            calls_per_sec: 40.0,
            p99_ms: Some(5.0),
            ..Figures::default()
        };
        snapshot.contexts.insert("vod.payment".into(), figures);
        let json = serde_json::to_vec(&OwnView {
            map: &map,
            snapshot: &snapshot,
        })
        .unwrap();
        bounded(serde_json::from_slice(&json).unwrap())
    }

    fn status(state: &'static str) -> PeerStatus {
        PeerStatus {
            url: PAYMENT.into(),
            state,
            error: (state == "unreachable").then(|| "no answer within 500 ms".into()),
        }
    }

    #[test]
    fn a_peers_contexts_join_the_map_with_their_figures_and_process() {
        let view = payment();
        let ready = status("ready");
        let peers = [PeerInput {
            status: &ready,
            view: Some(&view),
        }];
        let map = merge_map(&shop(), &peers);
        let ids: Vec<(&str, Option<&str>)> = map.apps[0]
            .contexts
            .iter()
            .map(|n| (n.id.as_str(), n.process.as_deref()))
            .collect();
        assert_eq!(
            ids,
            [
                ("vod.purchase", None),
                ("vod.mileage", None),
                ("vod.payment", Some(PAYMENT))
            ],
            "run here wins over a peer's claim"
        );
        assert!(map.elsewhere.is_empty(), "{:?}", map.elsewhere);
        assert_eq!(map.edges[0].from, "vod.payment", "vod.* resolved");

        let snapshot = merge_snapshot(shop_snapshot(), &map, &peers);
        let pay = &snapshot.contexts["vod.payment"];
        assert_eq!(pay.ready, Some(true));
        assert_eq!(pay.calls_per_sec, 40.0);
        assert_eq!(pay.process.as_deref(), Some(PAYMENT));
        assert!(!pay.unreachable);
        assert_eq!(snapshot.contexts["vod.purchase"].process, None);
        assert_eq!(snapshot.edges[0].from, "vod.payment");
        assert_eq!(
            snapshot.edges[0].rate, 12.5,
            "the consumer's rate, read here"
        );
        assert_eq!(snapshot.calls[0].breaker, "open", "our breaker");
        assert_eq!(snapshot.peers, std::slice::from_ref(&ready));

        // The peer stops answering: its contexts stay, marked, with no current figures.
        let down = status("unreachable");
        let peers = [PeerInput {
            status: &down,
            view: Some(&view),
        }];
        assert_eq!(merge_map(&shop(), &peers), map, "still drawn");
        let snapshot = merge_snapshot(shop_snapshot(), &map, &peers);
        let pay = &snapshot.contexts["vod.payment"];
        assert!(pay.unreachable);
        assert_eq!((pay.ready, pay.calls_per_sec), (None, 0.0));
        assert_eq!(snapshot.contexts["vod.mileage"].ready, Some(true), "ours");
        assert_eq!(snapshot.peers[0].state, "unreachable");

        // Never reached: nothing is known of it but its URL.
        let connecting = status("connecting");
        let peers = [PeerInput {
            status: &connecting,
            view: None,
        }];
        assert_eq!(merge_map(&shop(), &peers), shop());
    }

    #[test]
    fn a_hostile_peers_answer_is_bounded() {
        let long = format!("<img src=x onerror=alert(1)>{}", "가".repeat(2_000));
        // Past every bound; the first few contexts with long lists too (all would take
        // gigabytes to build here).
        let many = |i: usize| if i < 3 { 1000 } else { 1 };
        let contexts: Vec<Node> = (0..1000)
            .map(|i| Node {
                id: format!("{i}{long}"),
                role: long.clone(),
                rpcs: vec![long.clone(); many(i)],
                publishes: vec![long.clone(); many(i)],
                process: Some("javascript:alert(1)".into()),
            })
            .collect();
        let first = contexts[0].id.clone();
        let map = Map {
            apps: vec![App {
                app: long.clone(),
                contexts,
            }],
            elsewhere: vec![long.clone(); 1000],
            calls: vec![
                Call {
                    from: first.clone(),
                    to: long.clone(),
                    rpc: long.clone(),
                };
                2000
            ],
            edges: vec![
                Edge {
                    from: long.clone(),
                    to: first.clone(),
                    event: long.clone(),
                };
                2000
            ],
        };
        let mut snapshot = serde_json::json!({
            "contexts": {},
            // A breaker name whose 16th byte falls inside a character (é) must not panic.
            "calls": vec![serde_json::json!({"from": first, "to": long, "breaker": format!("{}é{long}", "a".repeat(15))}); 5000],
            "edges": vec![serde_json::json!({"from": long, "to": first, "event": long, "rate": 1e300}); 5000],
        });
        let wild = serde_json::json!({"ready": true, "callsPerSec": 1e300, "p99Ms": -5.0,
            "outbox": i64::MAX, "lag": -1, "lagGrowing": true, "deadLetters": i64::MIN,
            "process": "javascript:alert(1)", "unreachable": true});
        snapshot["contexts"][&first] = wild.clone();
        snapshot["contexts"]["not.on.its.map"] = wild;
        let answer = serde_json::json!({"map": map, "snapshot": snapshot});
        let view = bounded(serde_json::from_value(answer).unwrap());

        let nodes: Vec<&Node> = view.map.apps.iter().flat_map(|a| &a.contexts).collect();
        assert_eq!(nodes.len(), CONTEXTS_SHOWN);
        let names = |s: &String| s.chars().count() <= NAME_SHOWN + 1;
        for n in &nodes {
            assert!(names(&n.id) && names(&n.role));
            assert!(n.rpcs.len() <= NAMES_PER_CONTEXT && n.rpcs.iter().all(names));
            assert!(n.publishes.len() <= NAMES_PER_CONTEXT && n.publishes.iter().all(names));
            assert_eq!(n.process, None, "a peer does not say where it runs");
        }
        assert!(view.map.calls.len() <= LINKS_SHOWN && view.map.edges.len() <= LINKS_SHOWN);
        assert!(view.map.elsewhere.len() <= CONTEXTS_SHOWN);
        assert_eq!(view.snapshot.contexts.len(), 1, "only its map's contexts");
        let (id, f) = view.snapshot.contexts.iter().next().unwrap();
        assert!(names(id));
        assert_eq!(f.calls_per_sec, FIGURE_MAX);
        assert_eq!(f.p99_ms, Some(0.0));
        assert_eq!((f.lag, f.dead_letters), (Some(0), 0));
        assert!(f.outbox <= FIGURE_MAX as i64);
        assert_eq!((f.process.as_deref(), f.unreachable), (None, false));
        assert!(view.snapshot.calls.len() <= LINKS_SHOWN);
        assert!(view.snapshot.edges.iter().all(|e| e.rate == FIGURE_MAX));

        // Merged and served to the page: bounded in size, the breaker one of ours, and the
        // process named as configured here.
        let ready = status("ready");
        let peers = [PeerInput {
            status: &ready,
            view: Some(&view),
        }];
        let merged = merge_map(&shop(), &peers);
        let page = merge_snapshot(shop_snapshot(), &merged, &peers);
        let size = serde_json::to_string(&merged).unwrap().len()
            + serde_json::to_string(&page).unwrap().len();
        assert!(size < 4 << 20, "{size} bytes");
        assert!(
            page.calls
                .iter()
                .all(|c| ["closed", "open", "half-open", "unknown"].contains(&c.breaker))
        );
        assert!(page.calls.iter().any(|c| c.breaker == "unknown"));
        let theirs: Vec<_> = page
            .contexts
            .values()
            .filter(|f| f.process.is_some())
            .collect();
        assert_eq!(theirs.len(), CONTEXTS_SHOWN);
        assert!(theirs.iter().all(|f| f.process.as_deref() == Some(PAYMENT)));
    }
}
