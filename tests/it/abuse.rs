//! Issue 6, "keep it that way": bad input generated from the contracts, for every RPC over
//! gRPC (public and internal, on the mesh port) and every public route over REST (through
//! Envoy), in one batch per app against one `mediamesh up`. After each batch, and again after
//! a restart on the same data, a probe: a purchase, a reservation and an upload complete end
//! to end, every list answers, health says SERVING. Asserts no 5xx, no INTERNAL / UNKNOWN /
//! DATA_LOSS, no request left unanswered, no panic in the logs, no task restarted, no event
//! dead-lettered, no stalled flow; a failure lists every violation found.
mod base;
mod contracts;
mod grpc;
mod largest;
mod probe;
mod rest;
mod values;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::rest::{get, post};
use crate::harness::{BIN, Db, Mesh, Sandbox};

/// Cases in flight at once per batch (a duplicate-create case sends its copies together).
pub const CONCURRENCY: usize = 32;
/// Longest any single request may go unanswered.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// Cases per RPC and transport at most, so the suite stays within minutes as contracts grow.
pub const MAX_CASES_PER_RPC: usize = 150;

/// What one request got back.
pub enum Outcome {
    Grpc(tonic::Code, String),
    Http(u16, String),
    Stalled(Duration),
    Failed(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Grpc(code, _) => format!("{code:?}"),
            Outcome::Http(status, _) => status.to_string(),
            Outcome::Stalled(_) => "no answer".into(),
            Outcome::Failed(_) => "transport error".into(),
        }
    }

    /// Why this answer is a fault of the mesh rather than a refusal of bad input.
    fn fault(&self) -> Option<String> {
        match self {
            Outcome::Grpc(code, message) if grpc::is_fault(*code) => {
                Some(format!("{code:?}: {}", values::clip(message, 160)))
            }
            Outcome::Http(status, body) if *status >= 500 => Some(format!("{status} {body}")),
            Outcome::Grpc(..) | Outcome::Http(..) => None,
            Outcome::Stalled(after) => Some(format!("no answer within {after:?}")),
            Outcome::Failed(error) => Some(format!("no HTTP answer: {}", values::clip(error, 200))),
        }
    }
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

const APPS: [&str; 3] = ["vod", "cinema", "music"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abuse_generated_bad_input_never_breaks_the_mesh() {
    let started = Instant::now();
    let rpcs = contracts::load();
    let sandbox = Sandbox::sqlite("abuse");
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
    let base = base::Base::new(movie);

    let mut violations = Vec::new();
    let mut batches = Vec::new();
    for (n, app) in APPS.into_iter().enumerate() {
        let batch_started = Instant::now();
        let (grpc_cases, grpc_capped) = grpc::cases(&rpcs, app, &base);
        let (rest_cases, rest_capped) = rest::cases(&rpcs, app, &base);
        let gateway = gateway(&mesh, app);
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
            batch.grpc_requests += outcomes.len();
            for fault in tally(&mut batch, outcomes) {
                violations.push(format!(
                    "[{app}] gRPC {} | {} -> {fault}",
                    case.rpc.path, case.kind
                ));
            }
        }
        for (case, outcomes) in rest::run(&gateway, &rest_cases).await {
            batch.rest_requests += outcomes.len();
            for fault in tally(&mut batch, &outcomes) {
                violations.push(format!(
                    "[{app}] REST {} | {} -> {fault}",
                    case.route(),
                    case.kind
                ));
            }
        }
        batch.took = batch_started.elapsed();
        batches.push((app, batch));
        let when = format!("after the {app} batch");
        violations.extend(probe::all(&mesh, &rpcs, &when, n).await);
    }
    violations.extend(task_restarts(&mesh).await);
    // Printed now too, in case the restart below cannot complete.
    eprintln!("abuse: before restart:\n{}", violations.join("\n"));

    let (grpc_port, rest_port) = (mesh.grpc_port, mesh.rest_port.unwrap());
    violations.extend(stop(&mut mesh));
    drop(mesh);
    let sandbox_nats = sandbox.nats.url.clone();
    let mesh = Mesh::up(
        Some(&sandbox_nats),
        &sandbox.db,
        grpc_port,
        rest_port,
        sandbox.logs.path(),
    )
    .await;
    violations.extend(probe::all(&mesh, &rpcs, "after a restart", APPS.len()).await);
    violations.extend(dead_letters(&sandbox.db));
    violations.extend(panics(&mesh));

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
    summary.push_str(&format!("wall time {:?}", started.elapsed()));
    let violations = counted(violations);
    eprintln!("abuse summary:\n{summary}");
    assert!(
        violations.is_empty(),
        "{} violations:\n{}\n\n{summary}",
        violations.len(),
        violations.join("\n")
    );
}

/// Identical lines once, with how many times they occurred.
fn counted(lines: Vec<String>) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for line in lines {
        match seen.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => seen.push((line, 1)),
        }
    }
    seen.into_iter()
        .map(|(l, n)| if n == 1 { l } else { format!("{l} (x{n})") })
        .collect()
}

/// Counts the answers; the faults among them.
fn tally(batch: &mut Batch, outcomes: &[Outcome]) -> Vec<String> {
    let mut faults = Vec::new();
    for outcome in outcomes {
        *batch.answers.entry(outcome.label()).or_default() += 1;
        // Duplicate-create copies failing alike are one line.
        if let Some(fault) = outcome.fault()
            && !faults.contains(&fault)
        {
            faults.push(fault);
        }
    }
    faults
}

fn gateway(mesh: &Mesh, app: &str) -> String {
    match app {
        "vod" => mesh.rest(),
        "cinema" => mesh.cinema(),
        _ => mesh.music(),
    }
}

/// A relay or consumer that died (and was restarted by its supervisor) during the abuse.
async fn task_restarts(mesh: &Mesh) -> Vec<String> {
    let (_, body) = get(format!("http://127.0.0.1:{}/metrics", mesh.admin_port)).await;
    let text = body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .filter(|l| l.starts_with("mediamesh_task_restarts_total"))
        .filter(|l| l.rsplit(' ').next().is_some_and(|n| n != "0"))
        .map(|l| format!("[mesh] task restarted during the abuse: {l}"))
        .collect()
}

/// SIGTERM: the mesh must exit cleanly and soon, even after the abuse.
fn stop(mesh: &mut Mesh) -> Vec<String> {
    mesh.proc.signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match mesh.proc.child.try_wait().unwrap() {
            Some(status) if status.success() => return Vec::new(),
            Some(status) => return vec![format!("[mesh] SIGTERM after the abuse: {status}")],
            None if Instant::now() > deadline => {
                mesh.proc.kill9();
                return vec!["[mesh] did not exit within 30 s of SIGTERM".into()];
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Events that could not be published or applied: an input the edge let through that the
/// flow cannot carry.
fn dead_letters(db: &Db) -> Vec<String> {
    let Db::Sqlite(dir) = db else {
        unreachable!("the suite runs on SQLite")
    };
    let out = Command::new(BIN)
        .args(["deadletters", "list", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let letter: serde_json::Value = serde_json::from_str(line).unwrap_or(json!(line));
            format!(
                "[{}] dead letter: consumer {} subject {} ({} payload bytes): {}",
                letter["context"].as_str().unwrap_or("?"),
                letter["consumer"],
                values::clip(&letter["subject"].to_string(), 80),
                letter["payloadBytes"],
                values::clip(&letter["error"].to_string(), 200)
            )
        })
        .collect()
}

/// `panicked` anywhere in the mesh's log (both runs append to it).
fn panics(mesh: &Mesh) -> Vec<String> {
    let log = std::fs::read_to_string(&mesh.log).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("panicked"))
        .map(|l| format!("[mesh] log: {}", values::clip(l, 300)))
        .collect()
}
