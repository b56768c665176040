//! Issue 6, "keep it that way": bad input generated from the contracts, for every RPC over
//! gRPC (public and internal, on the mesh port) and every public route over REST (through
//! Envoy), in one batch per app against one `mediamesh up`. After each batch, and again after
//! a restart on the same data, a probe: a purchase, a reservation, a music upload, a video
//! upload and view (its channel's totals follow) and a join order (to JOINED) complete end to
//! end, every list serves a full page, health says SERVING. Asserts no 5xx, no INTERNAL /
//! UNKNOWN / DATA_LOSS, no request left unanswered, the issue's rules for ids, bounds,
//! malformed input and reused keys, no panic in the logs, no task restarted, no event
//! dead-lettered, no stalled flow; a failure lists every violation found.
mod base;
mod checks;
mod contracts;
mod grpc;
mod judge;
mod largest;
mod probe;
mod rest;
mod values;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::rest::{WAIT, post};
use crate::harness::{Mesh, Sandbox, eventually};
use judge::{Outcome, counted, described, judge};

/// Cases in flight at once per batch (a duplicate-create case sends its copies together).
pub const CONCURRENCY: usize = 32;
/// Longest any single request may go unanswered.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// Cases per RPC and transport at most, so the suite stays within minutes as contracts grow.
pub const MAX_CASES_PER_RPC: usize = 150;

const APPS: [&str; 5] = ["vod", "cinema", "music", "video", "iptv"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_on_sqlite() {
    run(Sandbox::sqlite("abuse-sqlite")).await;
}

/// PostgreSQL refuses what SQLite stores (NUL in text): the same input must be refused
/// at the edge on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_on_postgres() {
    run(Sandbox::postgres("abuse-pg")).await;
}

/// Counts for the summary.
#[derive(Default)]
struct Batch {
    rpcs: usize,
    routes: usize,
    grpc_cases: usize,
    grpc_requests: usize,
    rest_cases: usize,
    rest_requests: usize,
    largest_rows: usize,
    capped: usize,
    answers: BTreeMap<String, usize>,
    took: Duration,
}

impl Batch {
    /// Counts the answers of one case; what is wrong with them, each line naming the case.
    fn tally(&mut self, case: String, expect: judge::Expect, outcomes: &[Outcome]) -> Vec<String> {
        for outcome in outcomes {
            *self.answers.entry(outcome.label()).or_default() += 1;
        }
        let wrong = judge(expect, outcomes);
        wrong
            .into_iter()
            .map(|w| format!("{case} -> {w}"))
            .collect()
    }
}

async fn run(sandbox: Sandbox) {
    let started = Instant::now();
    let rpcs = contracts::load();
    let mut mesh = sandbox.up().await;
    // Reservations and reviews in the base requests name this movie, so that their other
    // fields are checked too (a request for an unknown movie stops at the lookup).
    let movie = "abuse-movie";
    let (status, body) = post(
        format!("{}/movies", mesh.cinema()),
        json!({"movieId": movie, "title": "Abuse", "seats": 100_000}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut base = base::Base::new(movie);
    references(&mesh).await;

    let mut violations = Vec::new();
    let mut batches = Vec::new();
    // Every case's answers, for whoever reads a failure (kept with the logs).
    let mut answers = Vec::new();
    // Base requests not accepted: their RPC's other fields may stop short of the checks.
    let mut refused_bases = Vec::new();
    for (n, app) in APPS.into_iter().enumerate() {
        let batch_started = Instant::now();
        make_targets(&mesh, &rpcs, app, &mut base).await;
        let (mut grpc_cases, grpc_capped) = grpc::cases(&rpcs, app, &base);
        grpc_cases.extend(grpc::unknown_methods(&rpcs, app));
        let rest_base = base.for_rest();
        let (rest_cases, rest_capped) = rest::cases(&rpcs, app, &rest_base);
        let mut batch = Batch {
            rpcs: rpcs.iter().filter(|r| r.app == app).count(),
            routes: rpcs
                .iter()
                .filter(|r| r.app == app && r.http.is_some())
                .count(),
            grpc_cases: grpc_cases.len(),
            rest_cases: rest_cases.len(),
            capped: grpc_capped + rest_capped,
            ..Batch::default()
        };
        let answered = grpc::run(mesh.channel().await, &grpc_cases).await;
        let largest_cases = largest::cases(&rpcs, app, &answered, &base);
        let largest = grpc::run(mesh.channel().await, &largest_cases).await;
        batch.largest_rows = largest_cases.len();
        for (case, outcomes) in answered.iter().chain(&largest) {
            let name = format!("[{app}] gRPC {} | {}", case.path, case.kind);
            answers.push(format!("{name} -> {}", described(outcomes)));
            if case.kind == "valid base request" && !outcomes.iter().all(Outcome::accepted) {
                refused_bases.push(format!("{name} -> {}", described(outcomes)));
            }
            batch.grpc_requests += outcomes.len();
            violations.extend(batch.tally(name, case.expect, outcomes));
        }
        for (case, outcomes) in rest::run(&gateway(&mesh, app), &rest_cases).await {
            let name = format!("[{app}] REST {} | {}", case.route(), case.kind);
            answers.push(format!("{name} -> {}", described(&outcomes)));
            if case.kind == "valid base request" && !outcomes.iter().all(Outcome::accepted) {
                refused_bases.push(format!("{name} -> {}", described(&outcomes)));
            }
            batch.rest_requests += outcomes.len();
            violations.extend(batch.tally(name, case.expect, &outcomes));
        }
        batch.took = batch_started.elapsed();
        batches.push((app, batch));
        let when = format!("after the {app} batch");
        violations.extend(probe::all(&mesh, &rpcs, &when, n).await);
    }
    let answers_file = sandbox.logs.path().join("abuse-answers.txt");
    std::fs::write(&answers_file, answers.join("\n")).unwrap();
    violations.extend(checks::metrics(&mesh, grpc::NO_SUCH_METHOD).await);
    // Printed now too, in case the restart below cannot complete.
    eprintln!("abuse: before the restart:\n{}", violations.join("\n"));

    let (grpc_port, rest_port) = (mesh.grpc_port, mesh.rest_port.unwrap());
    violations.extend(checks::stop(&mut mesh));
    drop(mesh);
    let nats = sandbox.nats.url.clone();
    let logs = sandbox.logs.path();
    let mesh = Mesh::up(Some(&nats), &sandbox.db, grpc_port, rest_port, logs).await;
    let after = probe::all(&mesh, &rpcs, "after a restart", APPS.len()).await;
    violations.extend(after);
    violations.extend(checks::dead_letters(&sandbox.db));
    violations.extend(checks::panics(&mesh));

    let mut summary = String::new();
    for (app, b) in &batches {
        summary.push_str(&format!(
            "{app}: {} RPCs ({} routes): gRPC {} cases + {} largest valid creates / {} \
             requests, REST {} cases / {} requests, {} cases over the per-RPC cap left out, \
             {:?}; answers {:?}\n",
            b.rpcs,
            b.routes,
            b.grpc_cases,
            b.largest_rows,
            b.grpc_requests,
            b.rest_cases,
            b.rest_requests,
            b.capped,
            b.took,
            b.answers
        ));
    }
    summary.push_str(&format!(
        "base requests not accepted ({}):\n{}\n",
        refused_bases.len(),
        refused_bases.join("\n")
    ));
    summary.push_str(&format!("wall time {:?}", started.elapsed()));
    eprintln!(
        "abuse summary:\n{summary}\nanswers: {}",
        answers_file.display()
    );
    let violations = counted(violations);
    assert!(
        violations.is_empty(),
        "{} violations:\n{}\n\n{summary}",
        violations.len(),
        violations.join("\n")
    );
}

/// For each RPC of `app` that reads, changes or deletes one resource, a resource of its own
/// per transport (`t-` for gRPC, `r-` for REST), made by its service's create over gRPC.
async fn make_targets(mesh: &Mesh, rpcs: &[contracts::Rpc], app: &str, base: &mut base::Base) {
    for (rpc, rest) in rpcs
        .iter()
        .filter(|r| r.app == app)
        .flat_map(|r| [(r, false), (r, true)])
    {
        if rest && rpc.http.is_none() {
            continue;
        }
        let id = format!("{}-{}", if rest { "r" } else { "t" }, rpc.method);
        let Some(creator) = rpc.creator(rpcs) else {
            if cross_target(mesh, rpcs, rpc, base, &id).await {
                base.set_target(rpc, id, rest);
            }
            continue;
        };
        let mut request = base.message(creator);
        let field = creator.created_id().expect("a creator");
        request.set_field(&field, prost_reflect::Value::String(id.clone()));
        let body = prost::Message::encode_to_vec(&request);
        let channel = mesh.channel().await;
        // A reservation's movie may still be on its way to the seat ledger.
        eventually(&format!("{id} made for {}", rpc.path), WAIT, || {
            let (channel, body) = (channel.clone(), body.clone());
            async move {
                match grpc::call(channel, &creator.path, body).await {
                    Outcome::Grpc(tonic::Code::Ok, _) => Some(()),
                    _ => None,
                }
            }
        })
        .await;
        base.set_target(rpc, id, rest);
    }
}

pub fn gateway(mesh: &Mesh, app: &str) -> String {
    match app {
        "vod" => mesh.rest(),
        "cinema" => mesh.cinema(),
        "music" => mesh.music(),
        "video" => mesh.video(),
        "iptv" => mesh.iptv(),
        other => panic!("no REST port for {other}"),
    }
}

/// What video's and iptv's base requests name (`base::CLIENT` ...): their creates refuse a
/// client, channel or video that does not exist, so a fresh id would stop every case there.
async fn references(mesh: &Mesh) {
    let (video, iptv) = (mesh.video(), mesh.iptv());
    let made = [
        (
            format!("{video}/clientSystems"),
            json!({"clientId": base::CLIENT}),
        ),
        (
            format!("{video}/channelSystems"),
            json!({"channelId": base::CHANNEL, "channelName": "abuse", "clientId": base::CLIENT}),
        ),
        (
            format!("{video}/videoServices"),
            json!({"videoId": base::VIDEO, "clientId": base::CLIENT,
                "channelId": base::CHANNEL, "title": "abuse"}),
        ),
        (
            format!("{iptv}/installers"),
            json!({"installerId": base::INSTALLER, "name": "abuse", "region": base::REGION}),
        ),
    ];
    for (url, body) in made {
        // A channel's client (a video's channel) may still be on its way to the asker.
        eventually(&format!("POST {url} {body}"), WAIT, || {
            let (url, body) = (url.clone(), body.clone());
            async move { (post(url, body).await.0 == 200).then_some(()) }
        })
        .await;
    }
}

/// A target for an iptv RPC that reads or changes what a join order became in another
/// context (its assignment, installation, order status): a join order made for it, carried
/// as far as the RPC needs (an installation exists once an installer is assigned).
async fn cross_target(
    mesh: &Mesh,
    rpcs: &[contracts::Rpc],
    rpc: &contracts::Rpc,
    base: &base::Base,
    id: &str,
) -> bool {
    let Some(first) = rpc.input.get_field(1) else {
        return false;
    };
    if rpc.app != "iptv" || rpc.is_list() || first.name() != "join_order_id" {
        return false;
    }
    let id = id.to_owned();
    let by = |method: &str| rpcs.iter().find(|r| r.app == "iptv" && r.method == method);
    let create = by("CreateJoinOrder").expect("iptv creates join orders");
    let mut request = base.message(create);
    request.set_field(&first_of(create), prost_reflect::Value::String(id.clone()));
    let channel = mesh.channel().await;
    let ok = |path: String, body: Vec<u8>| {
        let channel = channel.clone();
        async move {
            matches!(
                grpc::call(channel, &path, body).await,
                Outcome::Grpc(tonic::Code::Ok, _)
            )
            .then_some(())
        }
    };
    let body = prost::Message::encode_to_vec(&request);
    eventually(&format!("join order {id}"), WAIT, || {
        ok(create.path.clone(), body.clone())
    })
    .await;
    // The Get of the RPC's own service answers once its context has the order.
    let service = rpc.path.rsplit_once('/').expect("a gRPC path").0;
    let get = rpcs
        .iter()
        .find(|r| r.path.starts_with(service) && r.method.starts_with("Get"))
        .expect("a Get in every iptv service");
    if service.ends_with("InstallationService") {
        let assign = by("UpdateAssignment").expect("iptv assigns installers");
        let mut request = prost_reflect::DynamicMessage::new(assign.input.clone());
        request.set_field_by_name("join_order_id", prost_reflect::Value::String(id.clone()));
        request.set_field_by_name(
            "installer_id",
            prost_reflect::Value::String(base::INSTALLER.into()),
        );
        let body = prost::Message::encode_to_vec(&request);
        eventually(&format!("{id} assigned"), WAIT, || {
            ok(assign.path.clone(), body.clone())
        })
        .await;
    }
    let mut request = prost_reflect::DynamicMessage::new(get.input.clone());
    request.set_field_by_name("join_order_id", prost_reflect::Value::String(id.clone()));
    let body = prost::Message::encode_to_vec(&request);
    eventually(&format!("{id} in {service}"), WAIT, || {
        ok(get.path.clone(), body.clone())
    })
    .await;
    true
}

fn first_of(rpc: &contracts::Rpc) -> prost_reflect::FieldDescriptor {
    rpc.input.get_field(1).expect("a first field")
}
