//! Operating the mesh: the context map, effective config and its precedence, graceful
//! shutdown, dead letters, and one trace across REST, gRPC hops and event hops.
use std::process::Command;
use std::time::Duration;

use futures::StreamExt;
use mediamesh_proto::vod::v1 as pb;

use crate::harness::{BIN, Sandbox, TempDir, buy, eventually, mileage_of};

#[test]
fn map_is_generated_from_what_contexts_register() {
    let out = Command::new(BIN).arg("map").output().unwrap();
    assert!(out.status.success());
    let map = String::from_utf8(out.stdout).unwrap();
    assert!(map.starts_with("flowchart LR"), "{map}");
    for edge in [
        "vod_purchase -- \"gRPC Pay\" --> vod_payment",
        "vod_payment -. \"PaymentApproved\" .-> vod_mileage",
        "vod_catalog -. \"VodRegistered\" .-> vod_purchase",
        "vod_mileage -. \"FreeVodCreditIssued\" .-> vod_purchase",
        "vod_purchase -. \"PurchaseCancelled\" .-> vod_payment",
        "cinema_reservation -- \"gRPC Pay\" --> cinema_payment",
        "cinema_review -. \"ReviewCreated\" .-> cinema_movie",
        "cinema_reservation -. \"ReservationConfirmed\" .-> cinema_viewpage",
        "music_content -- \"gRPC ApproveCopyright\" --> music_copyright",
        "music_copyright -. \"CopyrightApproved\" .-> music_source",
        "music_source -. \"SourceRegistered\" .-> music_mypage",
    ] {
        assert!(map.contains(edge), "missing {edge}:\n{map}");
    }
}

#[test]
fn config_precedence_is_flag_then_env_then_file() {
    let dir = TempDir::new("config");
    let file = dir.path().join("mediamesh.env");
    std::fs::write(
        &file,
        "# comment\nMEDIAMESH_MAX_IN_FLIGHT=7\nMEDIAMESH_CALL_TIMEOUT_MS=100\nMEDIAMESH_TARGET=vod.purchase\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "config",
            "--config",
            file.to_str().unwrap(),
            "--target",
            "vod.payment,vod.mileage",
        ])
        .args(["--database-url", "postgres://app:s3cret@db:5432/media"])
        .env("MEDIAMESH_CALL_TIMEOUT_MS", "200")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config["max_in_flight"], 7, "file value");
    assert_eq!(config["call_timeout_ms"], 200, "environment beats file");
    assert_eq!(
        config["contexts"],
        serde_json::json!(["vod.payment", "vod.mileage"]),
        "flag beats file"
    );
    assert_eq!(
        config["database"], "postgres://app:****@db:5432/media",
        "password never printed"
    );

    let bad = Command::new(BIN)
        .args(["config", "--target", "vod.nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown target"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_cleanly() {
    let sandbox = Sandbox::sqlite("sigterm");
    let mut mesh = sandbox.serve("vod").await;
    buy(&mesh, "1", "han").await.unwrap();
    let status = mesh.proc.terminate(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
    let log = std::fs::read_to_string(&mesh.log).unwrap();
    assert!(log.contains("mesh stopped"), "{log}");
    // Nothing was lost on the way down: after a restart the purchase's mileage is there.
    let mesh = sandbox.serve("vod").await;
    eventually("mileage after restart", Duration::from_secs(20), || async {
        mileage_of(&mesh, "han").await.filter(|m| m.points == 1000)
    })
    .await;
}

/// Events delivered to a process that is stopping, but not applied (its store held by another
/// writer), are given back to the broker on the way down: the restarted process credits them
/// at once, not after the 30 s ack wait (a lag spike on every rolling restart otherwise).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_back_the_events_it_could_not_apply() {
    use std::io::{BufRead, Write};
    let sandbox = Sandbox::sqlite("sigterm-held");
    let mut mesh = sandbox.serve("vod").await;
    let mut lock = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(sandbox.logs.path().join("data/vod.mileage.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut sql = lock.stdin.take().unwrap();
    writeln!(sql, "BEGIN EXCLUSIVE;\nSELECT 'locked';").unwrap();
    let mut locked = String::new();
    std::io::BufReader::new(lock.stdout.take().unwrap())
        .read_line(&mut locked)
        .unwrap();
    assert_eq!(locked.trim(), "locked");

    let customers = ["kim", "lee", "park"];
    for customer in customers {
        buy(&mesh, "1", customer).await.unwrap();
    }
    let js = async_nats::jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream("MEDIAMESH_VOD")
        .await
        .unwrap()
        .get_consumer("vod_mileage")
        .await
        .unwrap();
    eventually(
        "mileage holding three events",
        Duration::from_secs(20),
        || {
            let mut consumer = consumer.clone();
            async move { (consumer.info().await.ok()?.num_ack_pending == 3).then_some(()) }
        },
    )
    .await;

    let status = mesh.proc.terminate(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
    writeln!(sql, "COMMIT;").unwrap();
    drop(sql);
    lock.wait().unwrap();

    let mesh = sandbox.serve("vod").await;
    for customer in customers {
        eventually(
            "mileage well before the ack wait",
            Duration::from_secs(10),
            || async {
                mileage_of(&mesh, customer)
                    .await
                    .filter(|m| m.points == 1000)
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_events_are_dead_lettered_without_blocking_the_stream() {
    let sandbox = Sandbox::sqlite("poison");
    let mesh = sandbox.serve("vod").await;
    let nats = &sandbox.nats;

    let js = async_nats::jetstream::new(async_nats::connect(&nats.url).await.unwrap());
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "poison-1");
    js.publish_with_headers(
        "vod.payment.PaymentApproved",
        headers,
        vec![0xff, 0xff, 0xff].into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();

    buy(&mesh, "2", "yoo").await.unwrap();
    eventually(
        "events after the poison still apply",
        Duration::from_secs(20),
        || async { mileage_of(&mesh, "yoo").await.filter(|m| m.points == 1000) },
    )
    .await;
    let db = sandbox.logs.path().join("data/vod.mileage.db");
    let rows = eventually("a dead letter", Duration::from_secs(20), || {
        let db = db.clone();
        async move {
            let out = Command::new("sqlite3")
                .arg(&db)
                .arg("SELECT event_id, consumer, subject FROM mesh_dead_letters")
                .output()
                .ok()?;
            let rows = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            (!rows.is_empty()).then_some(rows)
        }
    })
    .await;
    assert_eq!(rows, "poison-1|vod_mileage|vod.payment.PaymentApproved");
}

/// One trace spans the REST call, the gRPC hop to payment and the event hops to mileage:
/// every event of the purchase carries the caller's trace id in `traceparent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_rest_grpc_and_events() {
    let sandbox = Sandbox::sqlite("trace");
    let mesh = sandbox.up().await;
    let nats = &sandbox.nats;
    let client = async_nats::connect(&nats.url).await.unwrap();
    let mut events = client.subscribe("vod.>").await.unwrap();
    client.flush().await.unwrap();

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .post(format!("{}/vodPurchases", mesh.rest()))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&serde_json::json!({"vodId": "1", "customerId": "seo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let purchase: serde_json::Value = response.json().await.unwrap();
    let id = purchase["purchaseId"].as_str().unwrap().to_owned();

    let mut seen = std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 3 {
        let message = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("events")
            .unwrap();
        let headers = message.headers.clone().unwrap_or_default();
        if headers.get("Mm-Correlation-Id").map(|v| v.as_str()) != Some(id.as_str()) {
            continue;
        }
        let traceparent = headers
            .get("traceparent")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        seen.insert(message.subject.to_string(), traceparent);
    }
    for subject in [
        "vod.purchase.PurchasePlaced",
        "vod.payment.PaymentApproved",
        "vod.mileage.MileageCredited",
    ] {
        let traceparent = seen
            .get(subject)
            .unwrap_or_else(|| panic!("{subject} not seen: {seen:?}"));
        assert!(traceparent.contains(trace_id), "{subject}: {traceparent}");
    }
}

/// Prometheus metrics on the admin port count calls by method and code, peer calls, and
/// events applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_peer_calls_and_events() {
    let sandbox = Sandbox::sqlite("metrics");
    let mesh = sandbox.serve("vod").await;
    let mut purchases = mesh.purchases().await;
    buy(&mesh, "1", "moon").await.unwrap();
    let missing = pb::GetPurchaseRequest {
        purchase_id: "nope".into(),
    };
    assert_eq!(
        purchases.get_purchase(missing).await.unwrap_err().code(),
        tonic::Code::NotFound
    );

    let url = format!("http://127.0.0.1:{}/metrics", mesh.admin_port);
    let expected = [
        r#"mediamesh_grpc_server_handled_total{grpc_method="/mediamesh.vod.v1.PurchaseService/CreatePurchase",grpc_code="Ok"} 1"#,
        r#"mediamesh_grpc_server_handled_total{grpc_method="/mediamesh.vod.v1.PurchaseService/GetPurchase",grpc_code="NotFound"} 1"#,
        r#"mediamesh_peer_calls_total{peer="vod.payment",outcome="ok"} 1"#,
        r#"mediamesh_peer_breaker_open{peer="vod.payment"} 0"#,
        r#"mediamesh_events_applied_total{consumer="vod_mileage",event="PaymentApproved"} 1"#,
        "mediamesh_grpc_server_handling_seconds_bucket",
        "mediamesh_events_published_total",
    ];
    let text = eventually("metrics", Duration::from_secs(20), || {
        let url = url.clone();
        async move {
            let text = reqwest::get(url).await.ok()?.text().await.ok()?;
            expected
                .iter()
                .all(|line| text.contains(line))
                .then_some(text)
        }
    })
    .await;
    assert!(
        text.contains("# TYPE mediamesh_grpc_server_handled_total counter"),
        "{text}"
    );
}

/// Readiness: until JetStream is reachable the port answers health NOT_SERVING (not
/// "refused") and every other call UNAVAILABLE, not run; once the broker is up, SERVING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_serving_until_jetstream_is_reachable() {
    let dir = TempDir::new("readiness");
    let (grpc, nats_port) = (crate::harness::free_port(), crate::harness::free_port());
    let _mesh = crate::harness::Proc::spawn(
        "mediamesh serve",
        std::process::Command::new(BIN)
            .args(["serve", "--target", "vod.catalog", "--admin-addr", "off"])
            .args(["--grpc-addr", &format!("127.0.0.1:{grpc}")])
            .args(["--nats-url", &format!("nats://127.0.0.1:{nats_port}")])
            .arg("--data-dir")
            .arg(dir.path().join("data")),
        &dir.path().join("serve.log"),
    );
    let check = || async {
        let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
            .ok()?
            .connect()
            .await
            .ok()?;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let request = tonic_health::pb::HealthCheckRequest {
            service: "mediamesh.vod.v1.CatalogService".into(),
        };
        Some(health.check(request).await.ok()?.into_inner().status)
    };
    // 2 = NOT_SERVING, 1 = SERVING (grpc.health.v1).
    eventually(
        "NOT_SERVING while NATS is down",
        Duration::from_secs(20),
        || async { (check().await? == 2).then_some(()) },
    )
    .await;
    // A call meanwhile is not UNIMPLEMENTED (a 501 through the gateway for a method served a
    // moment later): UNAVAILABLE, "come back", marked as not run so a gateway may resend it.
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = pb::catalog_service_client::CatalogServiceClient::new(channel)
        .create_vod(pb::CreateVodRequest {
            vod_id: "early".into(),
            vod_name: "x".into(),
            price: Some(1000),
        })
        .await
        .expect_err("nothing is served before JetStream");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(
        tonic_types::StatusExt::get_details_retry_info(&status).is_some(),
        "RetryInfo: {status:?}"
    );
    assert_eq!(
        status
            .metadata()
            .get("mediamesh-not-run")
            .map(|v| v.to_str().unwrap()),
        Some("starting"),
        "{status:?}"
    );
    let _nats = crate::harness::Nats::start_on(nats_port);
    eventually(
        "SERVING once NATS is up",
        Duration::from_secs(30),
        || async { (check().await? == 1).then_some(()) },
    )
    .await;
}

/// A process on PostgreSQL holds at most `--db-pool-size` connections per context, however
/// many calls arrive: the number a chart budgets `max_connections` by.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_holds_at_most_its_pool_of_postgres_connections() {
    use mediamesh_mesh::storage::store::{Database, Store};
    let sandbox = Sandbox::postgres("pg-pool");
    let crate::harness::Db::Postgres(url) = &sandbox.db else {
        unreachable!()
    };
    let mesh = sandbox
        .serve_with(
            crate::harness::free_port(),
            "vod",
            &["--db-pool-size", "2"],
            &[],
        )
        .await;
    let probe = Store::open(
        &Database::Postgres {
            url: url.clone(),
            pool_size: 1,
        },
        "test.probe",
    )
    .await
    .unwrap();
    let connections = || async {
        let count: i64 = mediamesh_mesh::sql::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
        )
        .fetch_one(probe.reader())
        .await
        .unwrap();
        count
    };
    let mut most = 0;
    for round in 0..5 {
        let buys = (0..32).map(|i| {
            let mesh = &mesh;
            async move { buy(mesh, "1", &format!("pool-{round}-{i}")).await }
        });
        let bought = futures::future::join_all(buys).await;
        assert!(bought.iter().all(Result::is_ok), "{bought:?}");
        most = most.max(connections().await);
    }
    // Four vod contexts, two each, and the probe's own.
    assert!((2..=4 * 2 + 1).contains(&most), "{most} connections");
}

/// `up`'s own broker: its token is in a file only this user reads, never on a command line
/// any user of the machine can list, and the data dir `up` makes is this user's only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ups_broker_token_is_never_on_a_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let logs = TempDir::new("nats-token");
    let data = logs.path().join("data");
    let db = crate::harness::Db::Sqlite(data.clone());
    let (grpc, rest, nats_port) = (
        crate::harness::free_port(),
        crate::harness::free_port(),
        crate::harness::free_port(),
    );
    let mesh =
        crate::harness::Mesh::up_with(None, &db, grpc, rest, Some(nats_port), logs.path()).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data dir");
    let conf = data.join("nats.conf");
    assert_eq!(mode(&conf), 0o600, "broker config");
    let conf_text = std::fs::read_to_string(&conf).unwrap();
    let token = conf_text.split('"').nth(1).expect("a token in the config");
    assert!(token.len() >= 32, "{conf_text}");

    let children = Command::new("pgrep")
        .args(["-P", &mesh.proc.pid().to_string()])
        .output()
        .unwrap();
    let pids = String::from_utf8(children.stdout).unwrap();
    let mut seen_broker = false;
    for pid in pids.split_whitespace() {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        seen_broker |= cmdline.contains("nats-server");
        assert!(
            !cmdline.contains(token),
            "token on a command line: {cmdline}"
        );
    }
    assert!(seen_broker, "nats-server among the children: {pids}");

    // And the broker refuses whoever does not hold it.
    let anonymous = tokio::time::timeout(
        Duration::from_secs(5),
        async_nats::connect(format!("nats://127.0.0.1:{nats_port}").as_str()),
    )
    .await
    .expect("answered at once");
    assert!(anonymous.is_err(), "an anonymous client was let in");
}
