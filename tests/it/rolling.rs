//! Zero-downtime rolling restart: two replicas of vod.purchase (PostgreSQL) behind Envoy with
//! the config `mediamesh gateway` writes (what the chart's gateway runs: one cluster per
//! context, gRPC health checks each second, retries only when a call surely never ran), and
//! under continuous REST purchase load each replica in turn gets SIGTERM, exits, starts again
//! and is SERVING before the next. Every request must succeed and every acknowledged
//! purchase must exist afterwards.
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{
    BIN, Mesh, Proc, Sandbox, eventually, free_port, purchases_of, tool, wait_for_port,
};

/// Concurrent REST clients buying all the time.
const CLIENTS: usize = 8;

/// Envoy's view of one endpoint (admin `/clusters`): healthy or not.
async fn envoy_healthy(admin: u16, grpc_port: u16) -> bool {
    let Ok(response) = reqwest::get(format!("http://127.0.0.1:{admin}/clusters")).await else {
        return false;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines().any(|l| {
        l == format!("mediamesh_vod_purchase::127.0.0.1:{grpc_port}::health_flags::healthy")
    })
}

/// One purchase replica on `port`, calling the shop process for payment and catalog.
async fn purchase_replica(sandbox: &Sandbox, port: u16, shop: u16) -> Mesh {
    let shop = format!("http://127.0.0.1:{shop}");
    sandbox
        .serve_with(
            port,
            "vod.purchase",
            &[
                "--peer",
                &format!("vod.payment={shop}"),
                "--peer",
                &format!("vod.catalog={shop}"),
            ],
            &[],
        )
        .await
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: std::sync::Mutex<Vec<String>>,
    acknowledged: std::sync::Mutex<Vec<(String, String)>>,
}

async fn buy_until(rest: String, customer: String, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let client = reqwest::Client::new();
    while !stop.load(Ordering::SeqCst) {
        let response = client
            .post(format!("{rest}/vodPurchases"))
            .json(&json!({"vodId": "1", "customerId": customer}))
            .send()
            .await;
        let outcome = match response {
            Ok(r) => {
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                match (status, body["purchaseId"].as_str()) {
                    (200, Some(id)) => Ok(id.to_owned()),
                    _ => Err(format!("{status} {body}")),
                }
            }
            Err(e) => Err(format!("transport: {e}")),
        };
        match outcome {
            Ok(id) => {
                tally.ok.fetch_add(1, Ordering::SeqCst);
                tally
                    .acknowledged
                    .lock()
                    .unwrap()
                    .push((customer.clone(), id));
            }
            Err(e) => {
                // Wall-clock seconds within the minute, to line up with the replicas' logs.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                let at = format!("{}.{:03}", t.as_secs() % 60, t.subsec_millis());
                tally.failed.lock().unwrap().push(format!("at :{at} {e}"));
            }
        }
    }
}

/// Waits until `more` further purchases succeeded (the load is flowing, not a sleep).
async fn served_more(tally: &Tally, more: usize) {
    let from = tally.ok.load(Ordering::SeqCst);
    eventually(
        &format!("{more} more purchases"),
        Duration::from_secs(30),
        || async { (tally.ok.load(Ordering::SeqCst) >= from + more).then_some(()) },
    )
    .await;
}

fn envoy(dir: &Path, log: &Path) -> Proc {
    Proc::spawn(
        "envoy",
        Command::new(tool("envoy"))
            .arg("-c")
            .arg(dir.join("envoy.yaml"))
            .args([
                "--disable-hot-restart",
                "--use-dynamic-base-id",
                "-l",
                "warning",
            ]),
        log,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_never_fail_while_replicas_restart_one_at_a_time() {
    let sandbox = Sandbox::postgres("rolling");
    let shop = sandbox.serve("vod.catalog,vod.payment,vod.mileage").await;
    let ports = [free_port(), free_port()];
    let mut replicas = Vec::new();
    for port in ports {
        replicas.push(purchase_replica(&sandbox, port, shop.grpc_port).await);
    }

    let (rest_port, admin) = (free_port(), free_port());
    let dir = sandbox.logs.path().join("gateway");
    let mut gateway = Command::new(BIN);
    gateway
        .arg("gateway")
        .arg("--out")
        .arg(&dir)
        .args(["--rest-ports", &format!("vod={rest_port}")])
        .args(["--rest-addr", "127.0.0.1"])
        .args(["--admin-port", &admin.to_string()]);
    for port in ports {
        gateway.args(["--upstream", &format!("vod.purchase=127.0.0.1:{port}")]);
    }
    for context in ["vod.catalog", "vod.payment", "vod.mileage"] {
        gateway.args([
            "--upstream",
            &format!("{context}=127.0.0.1:{}", shop.grpc_port),
        ]);
    }
    let out = gateway.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _envoy = envoy(&dir, &sandbox.logs.path().join("envoy.log"));
    wait_for_port(rest_port, Duration::from_secs(20));
    for port in ports {
        eventually(
            "Envoy sees both replicas healthy",
            Duration::from_secs(20),
            || async move { envoy_healthy(admin, port).await.then_some(()) },
        )
        .await;
    }

    let rest = format!("http://127.0.0.1:{rest_port}");
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(buy_until(
                rest.clone(),
                format!("roll-{n}"),
                stop.clone(),
                tally.clone(),
            ))
        })
        .collect();
    served_more(&tally, 50).await;

    for (i, port) in ports.into_iter().enumerate() {
        let status = replicas[i].proc.terminate(Duration::from_secs(40));
        assert!(status.success(), "replica {port} exited badly: {status}");
        served_more(&tally, 50).await; // the other replica alone carries the load
        replicas[i] = purchase_replica(&sandbox, port, shop.grpc_port).await;
        eventually(
            "Envoy sees the restarted replica",
            Duration::from_secs(20),
            || async move { envoy_healthy(admin, port).await.then_some(()) },
        )
        .await;
        served_more(&tally, 50).await;
    }

    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }
    let failed = tally.failed.lock().unwrap().clone();
    if !failed.is_empty() {
        let stats = reqwest::get(format!(
            "http://127.0.0.1:{admin}/stats?filter=vod_purchase"
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        eprintln!("Envoy's view of vod.purchase:\n{stats}");
    }
    let ok = tally.ok.load(Ordering::SeqCst);
    eprintln!(
        "rolling restart: {ok} purchases in {:?}, {} failed",
        started.elapsed(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} failed: {:?}",
        failed.len(),
        ok + failed.len(),
        &failed
    );
    assert!(ok >= 200, "too little load to prove anything: {ok}");

    // Every acknowledged purchase exists, paid, exactly once.
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    for n in 0..CLIENTS {
        let customer = format!("roll-{n}");
        let stored = purchases_of(&replicas[0], &customer).await;
        for (_, id) in acknowledged.iter().filter(|(c, _)| *c == customer) {
            let found: Vec<_> = stored.iter().filter(|p| &p.purchase_id == id).collect();
            assert_eq!(
                found.len(),
                1,
                "acknowledged purchase {id} of {customer} missing"
            );
            assert_eq!(found[0].order_status, "PAID", "{id}");
        }
    }
}
