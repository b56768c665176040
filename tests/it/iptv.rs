//! IPTV subscription shop over REST (Envoy, port per app) against real nats-server, SQLite
//! and PostgreSQL: the seed's flow (join, assign in region, install, complete, cancel), the
//! rejects, the cancellation with installation hung and then down (kept, answered once when
//! it returns, the installer's consumer catching up), and the order status view rebuilt to
//! the same view.
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use mediamesh_proto::iptv::v1 as pb;
use pb::installation_service_client::InstallationServiceClient;

use crate::harness::rest::{WAIT, get, get_until, patch, post};
use crate::harness::{BIN, Db, Proc, Sandbox, eventually, free_port, wait_for_port};

/// `mediamesh up` serving `target`, with iptv's REST port only.
struct Iptv {
    proc: Proc,
    rest: u16,
}

impl Iptv {
    async fn up(sandbox: &Sandbox, target: &str, extra: &[&str]) -> Iptv {
        let (grpc, rest) = (free_port(), free_port());
        let mut command = Command::new(BIN);
        command
            .args(["up", "--target", target, "--nats-url", &sandbox.nats.url])
            .args(["--grpc-addr", &format!("127.0.0.1:{grpc}")])
            .args(["--admin-addr", &format!("127.0.0.1:{}", free_port())])
            .args(["--rest-ports", &format!("iptv={rest}")])
            .args(extra);
        match &sandbox.db {
            Db::Sqlite(dir) => command.arg("--data-dir").arg(dir),
            Db::Postgres(url) => command
                .args(["--database-url", url])
                .arg("--data-dir")
                .arg(sandbox.logs.path().join(format!("up-{grpc}"))),
        };
        let log = sandbox.logs.path().join(format!("iptv-up-{grpc}.log"));
        let proc = Proc::spawn("mediamesh up (iptv)", &mut command, &log);
        wait_for_port(rest, Duration::from_secs(60));
        let iptv = Iptv { proc, rest };
        let url = format!("{}/installers", iptv.url());
        eventually(
            &format!("iptv serving (log {})", log.display()),
            Duration::from_secs(60),
            || {
                let url = url.clone();
                async move { (get(url).await.0 == 200).then_some(()) }
            },
        )
        .await;
        iptv
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rest)
    }
}

async fn installer(c: &str, id: &str, region: &str) {
    let (status, body) = post(
        format!("{c}/installers"),
        json!({"installerId": id, "name": format!("기사 {id}"), "region": region}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn join(c: &str, id: &str, customer: &str, region: &str) -> Value {
    let (status, body) = post(
        format!("{c}/joinOrders"),
        json!({"joinOrderId": id, "customerId": customer, "customerName": "김고객",
               "address": "서울시 1", "region": region, "product": "INTERNET_TV"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "REQUESTED");
    body
}

/// The field a REST 400 names.
fn field_of(body: &Value) -> &str {
    body["details"][0]["fieldViolations"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

fn steps(view: &Value) -> Vec<String> {
    view["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| s["step"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Installs an order end to end: assign (after a wrong-region attempt), accept, complete.
async fn install(c: &str, order: &str, installer: &str) {
    let (status, body) = patch(
        format!("{c}/assignments/{order}"),
        json!({"installerId": installer}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ASSIGNED");
    get_until(
        format!("{c}/installations?installerId={installer}"),
        "the installer sees the installation",
        |b| {
            b["installations"]
                .as_array()
                .is_some_and(|l| l.iter().any(|i| i["joinOrderId"] == order))
        },
    )
    .await;
    for step in ["accept", "complete"] {
        let (status, body) = patch(
            format!("{c}/installations/{order}"),
            json!({"status": step}),
        )
        .await;
        assert_eq!(status, 200, "{step}: {body}");
    }
}

async fn seed_flow(sandbox: Sandbox) {
    let iptv = Iptv::up(&sandbox, "iptv", &[]).await;
    let c = iptv.url();
    installer(&c, "seoul-1", "seoul").await;
    installer(&c, "busan-1", "busan").await;
    let (_, listed) = get(format!("{c}/installers")).await;
    assert_eq!(
        listed["installers"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );

    // 1-6: join, the desk assigns in region, the installer installs, the desk completes.
    join(&c, "o1", "kim", "seoul").await;
    get_until(format!("{c}/assignments/o1"), "the desk sees o1", |b| {
        b["status"] == "WAITING"
    })
    .await;
    let (status, body) = patch(
        format!("{c}/assignments/o1"),
        json!({"installerId": "busan-1"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(9)),
        "another region: {body}"
    );
    let (status, body) = patch(format!("{c}/assignments/o1"), json!({"status": "complete"})).await;
    assert_eq!(status, 400, "not installed yet: {body}");
    install(&c, "o1", "seoul-1").await;
    let (status, body) = patch(format!("{c}/assignments/o1"), json!({"status": "complete"})).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("JOINED")),
        "{body}"
    );
    get_until(format!("{c}/joinOrders/o1"), "o1 JOINED", |b| {
        b["status"] == "JOINED"
    })
    .await;
    let view = get_until(format!("{c}/orderStatuses/o1"), "o1's steps", |b| {
        b["status"] == "JOINED"
    })
    .await;
    assert_eq!(
        steps(&view),
        ["REQUESTED", "ASSIGNED", "ACCEPTED", "INSTALLED", "JOINED"]
    );
    assert!(
        view["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["time"].as_str().is_some_and(|t| !t.is_empty()))
    );

    // 7-11: cancellations, answered to the customer.
    let (status, body) = patch(format!("{c}/joinOrders/o1"), json!({"status": "cancel"})).await;
    assert_eq!(
        (status, body["cancelStatus"].as_str()),
        (200, Some("CANCEL_REQUESTED")),
        "{body}"
    );
    let o1 = get_until(
        format!("{c}/joinOrders/o1"),
        "o1's cancellation answered",
        |b| b["cancelStatus"] == "CANCEL_REJECTED",
    )
    .await;
    assert_eq!(o1["status"], "JOINED", "the order keeps its state");
    join(&c, "o2", "kim", "seoul").await;
    get_until(format!("{c}/assignments/o2"), "the desk sees o2", |b| {
        b["status"] == "WAITING"
    })
    .await;
    let (status, _) = patch(
        format!("{c}/assignments/o2"),
        json!({"installerId": "seoul-1"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = patch(format!("{c}/joinOrders/o2"), json!({"status": "cancel"})).await;
    assert_eq!(status, 200);
    get_until(format!("{c}/joinOrders/o2"), "o2 CANCELLED", |b| {
        b["status"] == "CANCELLED" && b["cancelStatus"] == "CANCELLED"
    })
    .await;
    get_until(
        format!("{c}/installations/o2"),
        "o2's installation withdrawn",
        |b| b["status"] == "WITHDRAWN",
    )
    .await;
    let view = get_until(format!("{c}/orderStatuses/o2"), "o2's notice", |b| {
        b["status"] == "CANCELLED"
    })
    .await;
    assert!(
        view["notice"]
            .as_str()
            .is_some_and(|n| n.contains("accepted")),
        "{view}"
    );
    let mine = get_until(
        format!("{c}/orderStatuses?customerId=kim"),
        "kim's orders",
        |b| b["orderStatuses"].as_array().is_some_and(|l| l.len() == 2),
    )
    .await;
    assert_eq!(mine["orderStatuses"][1]["status"], "CANCELLED");

    // Rejects: 404 for unknown ids, 400 naming the field, never a 5xx.
    for (url, expected) in [
        (format!("{c}/joinOrders/nope"), 404),
        (format!("{c}/assignments/nope"), 404),
        (format!("{c}/installations/nope"), 404),
        (format!("{c}/orderStatuses/nope"), 404),
        (format!("{c}/installers/nope"), 404),
    ] {
        assert_eq!(get(url.clone()).await.0, expected, "{url}");
    }
    let bad = [
        (post(format!("{c}/joinOrders"), json!({"customerId": "kim", "customerName": "k", "address": "a", "region": "seoul", "product": "TV"})).await, "product"),
        (post(format!("{c}/joinOrders"), json!({"customerId": "a b", "customerName": "k", "address": "a", "region": "seoul", "product": "INTERNET"})).await, "customer_id"),
        (post(format!("{c}/installers"), json!({"name": "가".repeat(201), "region": "seoul"})).await, "name"),
        (patch(format!("{c}/joinOrders/o2"), json!({"status": "join"})).await, "status"),
        (patch(format!("{c}/installations/o2"), json!({"status": "install"})).await, "status"),
        (patch(format!("{c}/assignments/o2"), json!({})).await, "installer_id"),
        (get(format!("{c}/orderStatuses?customerId=a%0Ab")).await, "customer_id"),
    ];
    for ((status, body), field) in bad {
        assert_eq!((status, field_of(&body)), (400, field), "{body}");
    }
    let (status, body) = patch(
        format!("{c}/assignments/o1"),
        json!({"installerId": "nobody"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // The internal withdrawal has no REST route.
    let (status, _) = post(
        format!("{c}/mediamesh.iptv.v1.InstallationService/WithdrawInstallation"),
        json!({"joinOrderId": "o1"}),
    )
    .await;
    assert!(
        (400..500).contains(&status),
        "internal RPC not routed: {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_seed_flow_sqlite() {
    seed_flow(Sandbox::sqlite("iptv-seed")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_seed_flow_postgres() {
    seed_flow(Sandbox::postgres("iptv-seed-pg")).await;
}

/// Installation in its own process. Hung (SIGSTOP): the cancellation is kept as requested,
/// the desk answers at once; down (killed): the same, and the desk's assignment waits in
/// the stream. Back: the recovery answers the cancellation once, and installation's
/// consumer catches up with the assignment made while it was down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_cancellation_waits_for_installation_hung_or_down() {
    cancellation_waits(Sandbox::sqlite("iptv-breaker")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_cancellation_waits_for_installation_hung_or_down_postgres() {
    cancellation_waits(Sandbox::postgres("iptv-breaker-pg")).await;
}

async fn cancellation_waits(sandbox: Sandbox) {
    let port = free_port();
    let mut installation = sandbox
        .serve_with(port, "iptv.installation", &[], &[])
        .await;
    let peer = format!("iptv.installation=http://127.0.0.1:{port}");
    let iptv = Iptv::up(
        &sandbox,
        "iptv.order,iptv.assignment,iptv.orderstatus",
        &["--peer", &peer],
    )
    .await;
    let c = iptv.url();
    installer(&c, "s1", "seoul").await;
    for id in ["hung", "down", "late"] {
        join(&c, id, "lee", "seoul").await;
        get_until(format!("{c}/assignments/{id}"), "the desk sees it", |b| {
            b["status"] == "WAITING"
        })
        .await;
    }

    installation.proc.signal(libc::SIGSTOP);
    let (status, body) = patch(format!("{c}/joinOrders/hung"), json!({"status": "cancel"})).await;
    assert_eq!(
        (status, body["cancelStatus"].as_str()),
        (200, Some("CANCEL_REQUESTED"))
    );
    installation.proc.signal(libc::SIGCONT);
    installation.proc.kill9();
    let (status, _) = patch(format!("{c}/joinOrders/down"), json!({"status": "cancel"})).await;
    assert_eq!(status, 200);
    let (status, body) = patch(
        format!("{c}/assignments/late"),
        json!({"installerId": "s1"}),
    )
    .await;
    assert_eq!(
        status, 200,
        "the desk works while installation is down: {body}"
    );
    let (_, hung) = get(format!("{c}/joinOrders/hung")).await;
    assert_eq!(
        hung["cancelStatus"], "CANCEL_REQUESTED",
        "kept, not failed: {hung}"
    );

    let installation = sandbox
        .serve_with(port, "iptv.installation", &[], &[])
        .await;
    for id in ["hung", "down"] {
        eventually(
            &format!("{id} answered once installation is back"),
            Duration::from_secs(45),
            || {
                let url = format!("{c}/joinOrders/{id}");
                async move {
                    let (_, o) = get(url).await;
                    (o["cancelStatus"] == "CANCELLED").then_some(())
                }
            },
        )
        .await;
    }
    // Installation is not behind this gateway: asked on its own gRPC port.
    let channel = installation.channel().await;
    eventually("the missed assignment caught up", WAIT, || {
        let mut client = InstallationServiceClient::new(channel.clone());
        async move {
            let request = pb::GetInstallationRequest {
                join_order_id: "late".into(),
            };
            let late = client.get_installation(request).await.ok()?.into_inner();
            (late.status == "ASSIGNED" && late.installer_id == "s1").then_some(())
        }
    })
    .await;
    let view = get_until(format!("{c}/orderStatuses/hung"), "hung's steps", |b| {
        b["status"] == "CANCELLED"
    })
    .await;
    let answers = steps(&view)
        .iter()
        .filter(|s| *s == "CANCELLED" || *s == "CANCEL_REJECTED")
        .count();
    assert_eq!(answers, 1, "answered once: {view}");
    drop(installation);
}

/// `mediamesh views rebuild --target iptv.orderstatus` replays the stream into the same view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_order_statuses_rebuild_to_the_live_view() {
    let sandbox = Sandbox::sqlite("iptv-rebuild");
    let mut iptv = Iptv::up(&sandbox, "iptv", &[]).await;
    let c = iptv.url();
    installer(&c, "s1", "seoul").await;
    join(&c, "r1", "park", "seoul").await;
    join(&c, "r2", "park", "seoul").await;
    get_until(format!("{c}/assignments/r1"), "the desk sees r1", |b| {
        b["status"] == "WAITING"
    })
    .await;
    install(&c, "r1", "s1").await;
    let (status, _) = patch(format!("{c}/joinOrders/r2"), json!({"status": "cancel"})).await;
    assert_eq!(status, 200);
    let live = get_until(
        format!("{c}/orderStatuses?customerId=park"),
        "live view settled",
        |b| {
            b["orderStatuses"].as_array().is_some_and(|l| {
                l.len() == 2 && l[0]["status"] == "INSTALLED" && l[1]["status"] == "CANCELLED"
            })
        },
    )
    .await;
    assert!(iptv.proc.terminate(Duration::from_secs(30)).success());
    let Db::Sqlite(data) = &sandbox.db else {
        unreachable!()
    };
    let out = Command::new(BIN)
        .args([
            "views",
            "rebuild",
            "--target",
            "iptv.orderstatus",
            "--nats-url",
            &sandbox.nats.url,
        ])
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let iptv = Iptv::up(&sandbox, "iptv", &[]).await;
    let (status, rebuilt) = get(format!("{}/orderStatuses?customerId=park", iptv.url())).await;
    assert_eq!(status, 200);
    assert_eq!(rebuilt, live, "the rebuilt view equals the live one");
}

/// Publishes an iptv event straight to JetStream, as a context's relay would.
async fn publish<M: prost::Message + prost::Name>(
    js: &async_nats::jetstream::Context,
    context: &str,
    version: i64,
    time: &str,
    message: &M,
) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", uuid::Uuid::new_v4().to_string().as_str());
    headers.insert("Mm-Aggregate-Version", version.to_string().as_str());
    headers.insert("Mm-Event-Type", M::full_name().as_str());
    headers.insert("Mm-Occurred-At", time);
    let subject = format!("iptv.{context}.{}", M::NAME);
    js.publish_with_headers(subject, headers, message.encode_to_vec().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// The same change raised twice under two event ids, and an earlier step delivered after a
/// later one: the order only moves forward and the view shows each step once, at its first
/// time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iptv_duplicated_and_reordered_events_change_nothing_twice() {
    let sandbox = Sandbox::sqlite("iptv-dup");
    let iptv = Iptv::up(&sandbox, "iptv", &[]).await;
    let c = iptv.url();
    join(&c, "d1", "choi", "seoul").await;
    let js = async_nats::jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let installed = pb::InstallationCompleted {
        join_order_id: "d1".into(),
        customer_id: "choi".into(),
        installer_id: "s9".into(),
    };
    publish(&js, "installation", 3, "2030-01-01T00:00:03Z", &installed).await;
    publish(&js, "installation", 3, "2030-01-01T00:00:04Z", &installed).await;
    let assigned = pb::InstallerAssigned {
        join_order_id: "d1".into(),
        customer_id: "choi".into(),
        installer_id: "s9".into(),
        address: "a".into(),
        product: "INTERNET_TV".into(),
    };
    publish(&js, "assignment", 2, "2030-01-01T00:00:01Z", &assigned).await;
    publish(&js, "assignment", 2, "2030-01-01T00:00:02Z", &assigned).await;
    let view = get_until(format!("{c}/orderStatuses/d1"), "d1's steps", |b| {
        steps(b).len() == 3
    })
    .await;
    assert_eq!(steps(&view), ["REQUESTED", "ASSIGNED", "INSTALLED"]);
    assert_eq!(view["steps"][1]["time"], "2030-01-01T00:00:01Z", "{view}");
    assert_eq!(view["steps"][2]["time"], "2030-01-01T00:00:03Z", "{view}");
    let order = get_until(format!("{c}/joinOrders/d1"), "d1 installed", |b| {
        b["status"] == "INSTALLED"
    })
    .await;
    assert_eq!(order["cancelStatus"], "", "{order}");
    // The late assignment still opened the installation (once).
    get_until(format!("{c}/installations/d1"), "d1's installation", |b| {
        b["installerId"] == "s9"
    })
    .await;
}
