//! What the chart's probes and scrapes see, with real processes: readiness follows a lost
//! broker (hung or killed) at once, liveness only after its grace period, and both come back
//! with the broker; and the same for a lost store (PostgreSQL refusing connections);
//! `/metrics` shows a peer's breaker open while the peer hangs and closed once it answers,
//! beside the backlog gauges.
use std::time::{Duration, Instant};

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{
    Db, Mesh, Proc, Sandbox, TempDir, buy, eventually, fails_then_fast, free_port, mileage_of,
    tool, wait_for_port,
};

const SERVING: i32 = 1;
const NOT_SERVING: i32 = 2;

/// `service`'s status at `url`, or -1 when health does not answer within 2 s.
pub async fn health_at(url: &str, service: &str) -> i32 {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return -1;
    };
    let Ok(channel) = endpoint
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
    else {
        return -1;
    };
    let request = HealthCheckRequest {
        service: service.into(),
    };
    let mut client = HealthClient::new(channel);
    let check = client.check(request);
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(response)) => response.into_inner().status,
        _ => -1,
    }
}

async fn health_of(mesh: &Mesh, service: &str) -> i32 {
    health_at(&mesh.grpc_url(), service).await
}

/// The broker hangs (SIGSTOP): readiness turns NOT_SERVING within seconds while liveness
/// holds for its grace period, then fails; with the broker back, both are SERVING again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_fails_only_past_its_grace_and_heals() {
    const GRACE: Duration = Duration::from_secs(6);
    let sandbox = Sandbox::sqlite("liveness");
    let mesh = sandbox
        .serve_with(free_port(), "vod", &["--liveness-grace-secs", "6"], &[])
        .await;
    assert_eq!(health_of(&mesh, "liveness").await, SERVING);

    sandbox.nats.signal(libc::SIGSTOP);
    let stopped = Instant::now();
    eventually("readiness NOT_SERVING", Duration::from_secs(10), || async {
        (health_of(&mesh, "").await == NOT_SERVING).then_some(())
    })
    .await;
    let not_ready_after = stopped.elapsed();
    assert_eq!(
        health_of(&mesh, "liveness").await,
        SERVING,
        "alive within the grace period (not ready after {not_ready_after:?})"
    );
    eventually("liveness NOT_SERVING", Duration::from_secs(20), || async {
        (health_of(&mesh, "liveness").await == NOT_SERVING).then_some(())
    })
    .await;
    let dead_after = stopped.elapsed();
    assert!(
        dead_after >= GRACE,
        "liveness failed after {dead_after:?}, inside its {GRACE:?} grace"
    );
    eprintln!("broker hung: not ready after {not_ready_after:?}, not live after {dead_after:?}");

    sandbox.nats.signal(libc::SIGCONT);
    let resumed = Instant::now();
    eventually("ready and live again", Duration::from_secs(30), || async {
        (health_of(&mesh, "").await == SERVING && health_of(&mesh, "liveness").await == SERVING)
            .then_some(())
    })
    .await;
    eprintln!("broker back: SERVING after {:?}", resumed.elapsed());
    assert_eq!(buy(&mesh, "1", "after").await.unwrap().order_status, "PAID");
}

/// A nats-server on `port` keeping its store in `dir`, so a restart finds its streams.
fn broker(port: u16, dir: &TempDir) -> Proc {
    let proc = Proc::spawn(
        "nats-server",
        std::process::Command::new(tool("nats-server"))
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
            .arg("-sd")
            .arg(dir.path().join("js")),
        &dir.path().join("nats.log"),
    );
    wait_for_port(port, Duration::from_secs(10));
    proc
}

/// The broker killed (SIGKILL) and started again on its port and store: readiness at once,
/// liveness past its grace, both SERVING once it is back; a purchase made meanwhile is kept
/// in the outbox and credited after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_follows_a_killed_broker_and_its_return() {
    let dir = TempDir::new("liveness-kill");
    let port = free_port();
    let mut nats = broker(port, &dir);
    let url = format!("nats://127.0.0.1:{port}");
    let db = Db::Sqlite(dir.path().join("data"));
    let args = ["--liveness-grace-secs", "4"];
    let mesh = Mesh::serve_env(free_port(), "vod", &url, &db, &args, &[], dir.path()).await;

    nats.kill9();
    let killed = Instant::now();
    let purchase = buy(&mesh, "1", "offline")
        .await
        .expect("bought without a broker");
    assert_eq!(purchase.order_status, "PAID");
    eventually("readiness NOT_SERVING", Duration::from_secs(10), || async {
        (health_of(&mesh, "").await == NOT_SERVING).then_some(())
    })
    .await;
    eventually("liveness NOT_SERVING", Duration::from_secs(20), || async {
        (health_of(&mesh, "liveness").await == NOT_SERVING).then_some(())
    })
    .await;
    let dead_after = killed.elapsed();
    assert!(dead_after >= Duration::from_secs(4), "{dead_after:?}");

    let _nats = broker(port, &dir);
    let restarted = Instant::now();
    eventually("ready and live again", Duration::from_secs(30), || async {
        (health_of(&mesh, "").await == SERVING && health_of(&mesh, "liveness").await == SERVING)
            .then_some(())
    })
    .await;
    eprintln!(
        "broker killed: not live after {dead_after:?}; restarted: SERVING after {:?}",
        restarted.elapsed()
    );
    eventually(
        "the purchase made meanwhile credited",
        Duration::from_secs(30),
        || async {
            mileage_of(&mesh, "offline")
                .await
                .filter(|m| m.points == 1000)
        },
    )
    .await;
}

async fn scrape(mesh: &Mesh) -> Option<String> {
    let url = format!("http://127.0.0.1:{}/metrics", mesh.admin_port);
    reqwest::get(url).await.ok()?.text().await.ok()
}

/// Waits until `/metrics` holds every line of `want`.
async fn metrics_show(mesh: &Mesh, what: &str, want: &[&str]) -> String {
    eventually(what, Duration::from_secs(20), || async {
        let text = scrape(mesh).await?;
        want.iter().all(|line| text.contains(line)).then_some(text)
    })
    .await
}

/// Payment hung (SIGSTOP, the setup of `vod_faults`): the shop's `/metrics` shows the
/// breaker to payment open (2), then closed (0) once payment answers again; the outbox
/// backlog, consumer lag, dead letters and readiness gauges are there to alert on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_breaker_open_while_a_peer_hangs() {
    let sandbox = Sandbox::sqlite("breaker-metrics");
    let (payment, shop) = sandbox.vod_payment_apart().await;
    let closed = r#"mediamesh_peer_breaker_state{peer="vod.payment"} 0"#;
    let text = metrics_show(
        &shop,
        "breaker closed and the backlog gauges",
        &[
            closed,
            r#"mediamesh_outbox_backlog{context="vod.purchase"} 0"#,
            r#"mediamesh_consumer_lag{consumer="vod_mileage"} 0"#,
            r#"mediamesh_dead_letters{context="vod.mileage"} 0"#,
            r#"mediamesh_context_ready{context="vod.purchase"} 1"#,
        ],
    )
    .await;
    assert!(
        text.contains("# TYPE mediamesh_peer_breaker_state gauge"),
        "{text}"
    );

    payment.proc.signal(libc::SIGSTOP);
    fails_then_fast(|| buy(&shop, "1", "lee")).await;
    metrics_show(
        &shop,
        "breaker open",
        &[r#"mediamesh_peer_breaker_state{peer="vod.payment"} 2"#],
    )
    .await;

    payment.proc.signal(libc::SIGCONT);
    eventually("purchases heal", Duration::from_secs(15), || async {
        buy(&shop, "1", "lee")
            .await
            .ok()
            .filter(|p| p.order_status == "PAID")
    })
    .await;
    metrics_show(&shop, "breaker closed again", &[closed]).await;
}

/// The store lost: the context's PostgreSQL database stops taking connections and its
/// sessions are ended. Readiness turns NOT_SERVING at once, liveness after its grace; with
/// connections allowed again both are SERVING and purchases go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_follows_a_lost_store_and_its_return() {
    const GRACE: Duration = Duration::from_secs(4);
    let sandbox = Sandbox::postgres("liveness-store");
    let Db::Postgres(url) = &sandbox.db else {
        unreachable!()
    };
    let mesh = sandbox
        .serve_with(free_port(), "vod", &["--liveness-grace-secs", "4"], &[])
        .await;
    assert_eq!(health_of(&mesh, "liveness").await, SERVING);

    // The server's own database, to switch the test's database off and on.
    let (server, database) = url.rsplit_once('/').unwrap();
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let switch = |allow: bool| {
        let admin = admin.clone();
        let database = database.to_owned();
        async move {
            sqlx::query(&format!(
                "ALTER DATABASE {database} WITH ALLOW_CONNECTIONS {allow}"
            ))
            .execute(&admin)
            .await
            .unwrap();
            if !allow {
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                )
                .bind(database)
                .execute(&admin)
                .await
                .unwrap();
            }
        }
    };

    switch(false).await;
    let lost = Instant::now();
    eventually("readiness NOT_SERVING", Duration::from_secs(15), || async {
        (health_of(&mesh, "").await == NOT_SERVING).then_some(())
    })
    .await;
    eventually("liveness NOT_SERVING", Duration::from_secs(30), || async {
        (health_of(&mesh, "liveness").await == NOT_SERVING).then_some(())
    })
    .await;
    assert!(lost.elapsed() >= GRACE, "liveness failed inside its grace");

    switch(true).await;
    eventually("ready and live again", Duration::from_secs(30), || async {
        (health_of(&mesh, "").await == SERVING && health_of(&mesh, "liveness").await == SERVING)
            .then_some(())
    })
    .await;
    assert_eq!(buy(&mesh, "1", "after").await.unwrap().order_status, "PAID");
}
