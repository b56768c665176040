//! The live console on the admin port, as an operator's browser shows it: a real headless
//! Chromium (Debian's, driven by Playwright for Python through tests/it/console.py) keeps
//! one page open while the test drives the mesh, and the page must follow without a reload:
//! every context of `up`, an event edge's rate under purchases, a breaker open while payment
//! hangs and closed after, a dead letter and its replay.
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;
use prost::Message;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::harness::{BIN, Mesh, Sandbox, buy, eventually, fails_then_fast, free_port, mileage_of};

/// One console page in headless Chromium.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

impl Browser {
    async fn open(mesh: &Mesh) -> Browser {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/console.py");
        let mut child = Command::new(crate::harness::tool("python"))
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python with playwright: run scripts/install-tools");
        let stdin = child.stdin.take().unwrap();
        let answers = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut browser = Browser {
            child,
            stdin,
            answers,
        };
        let url = format!("http://127.0.0.1:{}/", mesh.admin_port);
        let title = browser.send(json!({"op": "goto", "url": url})).await;
        assert_eq!(title, "mediamesh console");
        browser
    }

    async fn send(&mut self, command: Value) -> Value {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(90), self.answers.next_line())
            .await
            .unwrap_or_else(|_| panic!("the browser did not answer {command}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the browser quit on {command}"));
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["ok"], true, "{command}: {}", answer["error"]);
        answer["value"].clone()
    }

    async fn eval(&mut self, js: &str) -> Value {
        self.send(json!({"op": "eval", "js": js})).await
    }

    /// Until `js` is truthy on the page (within 30 s); returns its value.
    async fn wait(&mut self, js: &str) -> Value {
        self.send(json!({"op": "wait", "js": js, "ms": 30_000}))
            .await
    }

    /// What a cell of the row `row` (a CSS selector) shows.
    async fn cell(&mut self, row: &str, cell: &str) -> String {
        let js = format!("document.querySelector({row:?})?.querySelector({cell:?})?.textContent");
        self.eval(&js).await.as_str().unwrap_or_default().to_owned()
    }

    /// No script error and no Content-Security-Policy violation on the page.
    async fn assert_no_errors(&mut self) {
        let errors = self.send(json!({"op": "errors"})).await;
        assert_eq!(errors, json!([]), "the page logged errors");
    }

    async fn close(mut self) {
        let _ = self.stdin.write_all(b"{\"op\": \"quit\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// Every context `mediamesh map` draws (from the same registrations as `up` runs).
fn contexts_of_the_map() -> Vec<String> {
    let out = std::process::Command::new(BIN).arg("map").output().unwrap();
    let map = String::from_utf8(out.stdout).unwrap();
    map.lines()
        .filter_map(|l| l.trim().split_once("[\"").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_owned)
        .collect()
}

/// Buys in the background until the guard is dropped: the load the console shows.
struct Load(Arc<AtomicBool>);

impl Load {
    async fn start(mesh: &Mesh, customer: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let mut purchases = mesh.purchases().await;
        let (flag, customer) = (stop.clone(), customer.to_owned());
        tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                let request = pb::CreatePurchaseRequest {
                    vod_id: "1".into(),
                    customer_id: customer.clone(),
                    ..Default::default()
                };
                let _ = purchases.create_purchase(request).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Load(stop)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

const EDGE: &str = r#"tr[data-edge="vod.payment>vod.mileage:PaymentApproved"]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_every_context_live_rates_and_replays_dead_letters() {
    let sandbox = Sandbox::sqlite("console");
    let mesh = sandbox.up().await;
    let mut page = Browser::open(&mesh).await;

    // Every context of `up`, all five apps, in the tables and on the map, each ready.
    let expected = contexts_of_the_map();
    assert!(expected.len() >= 25, "{expected:?}");
    let rows = "[...document.querySelectorAll('#contexts tbody tr')].map(r => r.dataset.context)";
    let mut shown: Vec<String> = serde_json::from_value(page.eval(rows).await).unwrap();
    let mut want = expected.clone();
    shown.sort();
    want.sort();
    assert_eq!(shown, want, "the contexts table");
    let nodes = "[...document.querySelectorAll('#map [data-node]')].map(n => n.dataset.node)";
    let nodes: Vec<String> = serde_json::from_value(page.eval(nodes).await).unwrap();
    for id in &expected {
        assert!(nodes.contains(id), "{id} not on the map: {nodes:?}");
    }
    let apps = "[...document.querySelectorAll('#map text.app')].map(t => t.textContent)";
    assert_eq!(
        page.eval(apps).await,
        json!(["vod", "cinema", "music", "iptv", "video"])
    );
    page.wait(
        "[...document.querySelectorAll('#contexts td.health')].every(td => td.textContent === 'ready')",
    )
    .await;
    assert_eq!(page.cell(EDGE, "td.rate").await, "0.00", "idle edge");

    // Purchases: the payment -> mileage edge shows its rate, the page never reloaded.
    let ticks = page.eval("Number(document.body.dataset.ticks)").await;
    let load = Load::start(&mesh, "console-load").await;
    let rate = format!("parseFloat(document.querySelector('{EDGE} td.rate').textContent) > 0");
    page.wait(&rate).await;
    let calls = r#"parseFloat(document.querySelector('tr[data-context="vod.purchase"] td:nth-child(3)').textContent) > 0"#;
    page.wait(calls).await;
    page.wait(r#"document.querySelector('tr[data-context="vod.payment"] td:nth-child(4)').textContent.endsWith(' ms')"#).await;
    let later = page.eval("Number(document.body.dataset.ticks)").await;
    assert!(
        later.as_u64() > ticks.as_u64(),
        "updated in place: {ticks} -> {later}"
    );
    let shot = sandbox.logs.path().join("console.png");
    page.send(json!({"op": "screenshot", "path": shot})).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    // Kept for the README when asked: MEDIAMESH_CONSOLE_SCREENSHOT=docs/console.png.
    if let Ok(keep) = std::env::var("MEDIAMESH_CONSOLE_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    drop(load);

    // A poison event is dead-lettered by vod.mileage: the page lists it with its error and
    // deliveries.
    let js = async_nats::jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "console-poison");
    js.publish_with_headers("vod.payment.PaymentApproved", headers, vec![0xff; 3].into())
        .await
        .unwrap()
        .await
        .unwrap();
    let poison = r#"tr[data-letter="vod.mileage/vod_mileage/console-poison"]"#;
    page.wait(&format!("document.querySelector('{poison}')"))
        .await;
    assert!(!page.cell(poison, "td.error").await.is_empty());
    let deliveries: u32 = page.cell(poison, "td:nth-child(6)").await.parse().unwrap();
    assert!(deliveries >= 1);
    assert_eq!(
        page.cell(poison, "td:nth-child(3)").await,
        "vod.payment.PaymentApproved"
    );
    // A dead letter is an alert, never "all clear".
    page.wait(
        "document.querySelector('#alerts').textContent.includes('vod.mileage: 1 dead letter')",
    )
    .await;

    // A valid event a past outage left in the dead letters: Replay on the page sends it
    // back through the outbox; the row goes and the credit is applied.
    lost_letter(&sandbox, "console-lost", "console-replayed");
    let lost = r#"tr[data-letter="vod.mileage/vod_mileage/console-lost"]"#;
    page.wait(&format!("document.querySelector('{lost}')"))
        .await;
    page.send(json!({"op": "click", "selector": format!("{lost} button.replay")}))
        .await;
    page.wait(&format!("!document.querySelector('{lost}')"))
        .await;
    eventually("the replayed credit", Duration::from_secs(20), || async {
        mileage_of(&mesh, "console-replayed")
            .await
            .filter(|m| m.points == 1000)
    })
    .await;
    assert!(
        page.eval(&format!("!!document.querySelector('{poison}')"))
            .await
            == true,
        "the poison stays"
    );
    page.assert_no_errors().await;
    page.close().await;

    // The replay cannot be forged by another site: no console header, no replay.
    let url = format!("http://127.0.0.1:{}/console/replay", mesh.admin_port);
    let body = json!({"context": "vod.mileage", "eventId": "console-poison"});
    let client = reqwest::Client::new();
    let forged = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let rebound = client
        .post(&url)
        .header("host", "evil.example")
        .header("x-mediamesh-console", "replay")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403, "a DNS-rebound Host is refused");
}

/// Puts a valid PaymentApproved for `customer` into vod.mileage's dead letters, as an
/// outage would have left it.
fn lost_letter(sandbox: &Sandbox, id: &str, customer: &str) {
    let event = pb::PaymentApproved {
        purchase_id: format!("p-{id}"),
        customer_id: customer.into(),
        amount: 1000,
        free_vod: false,
    };
    let hex: String = event
        .encode_to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let db = sandbox.logs.path().join("data/vod.mileage.db");
    let sql = format!(
        "INSERT INTO mesh_dead_letters (event_id, consumer, subject, headers, payload, error, \
         deliveries, failed_at) VALUES ('{id}', 'vod_mileage', 'vod.payment.PaymentApproved', \
         '{{}}', X'{hex}', 'database was down', 5, 'then')"
    );
    let out = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 5000"])
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Purchase and payment in separate processes: the purchase process's console shows its
/// breaker to payment open while payment is hung (SIGSTOP), and closed after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_the_breaker_open_while_payment_hangs() {
    let sandbox = Sandbox::sqlite("console-breaker");
    let (payment, shop) = sandbox.vod_payment_apart().await;
    let mut page = Browser::open(&shop).await;
    let call = r#"tr[data-call="vod.purchase>vod.payment"]"#;
    page.wait(&format!(
        "document.querySelector('{call}')?.dataset.breaker === 'closed'"
    ))
    .await;
    let away = "[...document.querySelectorAll('#map .node.away')].map(n => n.dataset.node)";
    assert!(
        page.eval(away)
            .await
            .as_array()
            .unwrap()
            .contains(&json!("vod.payment")),
        "payment is drawn as run elsewhere"
    );

    payment.proc.signal(libc::SIGSTOP);
    fails_then_fast(|| buy(&shop, "1", "lee")).await;
    // Calls go on, so the breaker stays open (each probe after the cool-down fails again).
    let load = Load::start(&shop, "lee").await;
    page.wait(&format!(
        "document.querySelector('{call}').dataset.breaker === 'open'"
    ))
    .await;
    assert_eq!(page.cell(call, "td.breaker").await, "open");
    let alerts = page
        .eval("document.querySelector('#alerts').textContent")
        .await;
    assert!(
        alerts
            .as_str()
            .unwrap()
            .contains("breaker open: vod.purchase"),
        "{alerts}"
    );
    let label = "[...document.querySelectorAll('#map text.label.open')].map(t => t.textContent)";
    assert_eq!(
        page.eval(label).await,
        json!(["Pay OPEN"]),
        "red on the map"
    );
    drop(load);

    payment.proc.signal(libc::SIGCONT);
    eventually("purchases heal", Duration::from_secs(15), || async {
        buy(&shop, "1", "lee")
            .await
            .ok()
            .filter(|p| p.order_status == "PAID")
    })
    .await;
    page.wait(&format!(
        "document.querySelector('{call}').dataset.breaker === 'closed'"
    ))
    .await;
    let alerts = page
        .eval("document.querySelector('#alerts').textContent")
        .await;
    assert_eq!(alerts, "all clear");
    page.assert_no_errors().await;
    page.close().await;
}

/// A consumer that falls behind stands out: with vod.mileage's store locked under purchases,
/// its lag keeps rising and the page flags it (row, map and header); it clears once the
/// lock is gone and the consumer catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_flags_a_growing_consumer_lag() {
    use std::io::Write;
    let sandbox = Sandbox::sqlite("console-lag");
    let shop = sandbox.serve("vod").await;
    assert_eq!(buy(&shop, "1", "ann").await.unwrap().order_status, "PAID");
    let mut page = Browser::open(&shop).await;
    let row = r#"tr[data-context="vod.mileage"]"#;
    page.wait(&format!(
        "document.querySelector('{row} td.health').textContent === 'ready'"
    ))
    .await;

    // Another writer holds the mileage store: its consumer cannot apply, events pile up.
    // It waits for the mesh's own writes to let go (sqlite3 gives up at once otherwise).
    let mut lock = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(sandbox.logs.path().join("data/vod.mileage.db"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sql = lock.stdin.take().unwrap();
    writeln!(sql, "BEGIN EXCLUSIVE;").unwrap();
    let load = Load::start(&shop, "ann").await;
    page.wait(&format!(
        "document.querySelector('{row}').classList.contains('lag')"
    ))
    .await;
    assert!(page.cell(row, "td:nth-child(6)").await.ends_with("growing"));
    let node = r#"#map [data-node="vod.mileage"]"#;
    assert_eq!(
        page.eval(&format!(
            "document.querySelector('{node}').classList.contains('lag')"
        ))
        .await,
        true,
        "orange on the map"
    );
    let alerts = page
        .eval("document.querySelector('#alerts').textContent")
        .await;
    assert!(
        alerts.as_str().unwrap().contains("vod.mileage lag growing"),
        "{alerts}"
    );
    drop(load);

    writeln!(sql, "COMMIT;").unwrap();
    drop(sql);
    lock.wait().unwrap();
    page.wait(&format!(
        "!document.querySelector('{row}').classList.contains('lag') && \
         document.querySelector('{row} td:nth-child(6)').textContent === '0'"
    ))
    .await;
    page.assert_no_errors().await;
    page.close().await;
}

/// vod.payment in a process of its own and the rest of vod in another, each given the
/// other's admin port (`--admin-peer`); returns them with payment's admin URL, once a first
/// purchase has gone through.
async fn vod_payment_apart_with_consoles(sandbox: &Sandbox) -> (Mesh, Mesh, String) {
    let world = (sandbox.nats.url.as_str(), &sandbox.db, sandbox.logs.path());
    let (payment_port, payment_admin, shop_admin) = (free_port(), free_port(), free_port());
    let payment_url = format!("http://127.0.0.1:{payment_admin}");
    let shop_url = format!("http://127.0.0.1:{shop_admin}");
    let payment = Mesh::serve_admin(
        payment_port,
        payment_admin,
        "vod.payment",
        world,
        &["--admin-peer", &shop_url],
        &[],
    )
    .await;
    let peer = format!("vod.payment=http://127.0.0.1:{payment_port}");
    let shop = Mesh::serve_admin(
        free_port(),
        shop_admin,
        "vod.catalog,vod.purchase,vod.mileage",
        world,
        &["--peer", &peer],
        &[("MEDIAMESH_ADMIN_PEERS", &payment_url)],
    )
    .await;
    assert_eq!(buy(&shop, "1", "kim").await.unwrap().order_status, "PAID");
    (payment, shop, payment_url)
}

/// One console for the mesh: the purchase process's page shows vod.payment, run in another
/// process, with its own live figures (read from that process's admin port), and the
/// payment -> mileage edge drawn from payment; while payment hangs (SIGSTOP) its contexts show
/// unreachable and the header names it, and the local figures go on; after, ready again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_the_contexts_of_its_admin_peers_live() {
    let sandbox = Sandbox::sqlite("console-peers");
    let (payment, shop, payment_url) = vod_payment_apart_with_consoles(&sandbox).await;
    let mut page = Browser::open(&shop).await;
    let pay = r#"tr[data-context="vod.payment"]"#;
    page.wait(&format!(
        "document.querySelector('{pay} td.health')?.textContent === 'ready'"
    ))
    .await;
    assert_eq!(page.cell(pay, "td.process").await, payment_url);
    let node = r#"#map [data-node="vod.payment"]"#;
    let class = format!("document.querySelector('{node}').getAttribute('class')");
    let drawn = page.eval(&class).await;
    assert!(
        drawn.as_str().unwrap().contains("remote"),
        "drawn as run in another process, not as a bare name: {drawn}"
    );
    assert_eq!(
        page.cell(r#"tr[data-context="vod.purchase"]"#, "td.process")
            .await,
        "here"
    );
    page.wait(
        "document.querySelector('#letters-elsewhere').textContent.includes('replayed on their own console')",
    )
    .await;

    // Purchases: payment's own calls/s and p99 (measured in its process), and the rate of
    // the payment -> mileage edge, whose producer runs elsewhere.
    let ticks = page.eval("Number(document.body.dataset.ticks)").await;
    let load = Load::start(&shop, "kim").await;
    page.wait(&format!(
        "parseFloat(document.querySelector('{pay} td:nth-child(3)').textContent) > 0"
    ))
    .await;
    page.wait(&format!(
        "document.querySelector('{pay} td:nth-child(4)').textContent.endsWith(' ms')"
    ))
    .await;
    page.wait(&format!(
        "parseFloat(document.querySelector('{EDGE} td.rate')?.textContent) > 0"
    ))
    .await;
    let later = page.eval("Number(document.body.dataset.ticks)").await;
    assert!(
        later.as_u64() > ticks.as_u64(),
        "no reload: {ticks} -> {later}"
    );
    drop(load);

    // Payment hangs: its row and node show unreachable, the header names its process...
    payment.proc.signal(libc::SIGSTOP);
    page.wait(&format!(
        "document.querySelector('{pay} td.health').textContent === 'unreachable'"
    ))
    .await;
    let alerts = page
        .eval("document.querySelector('#alerts').textContent")
        .await;
    assert!(
        alerts
            .as_str()
            .unwrap()
            .contains(&format!("{payment_url} unreachable")),
        "{alerts}"
    );
    assert!(
        page.eval(&class)
            .await
            .as_str()
            .unwrap()
            .contains("unreachable")
    );
    // ...while this process's own figures go on, second by second: the page gets every
    // snapshot, and its breaker to payment opens under purchases.
    let ticks = page.eval("Number(document.body.dataset.ticks)").await;
    let started = std::time::Instant::now();
    page.wait(&format!(
        "Number(document.body.dataset.ticks) >= {ticks} + 3"
    ))
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "3 snapshots took {:?}: the hung peer held the page up",
        started.elapsed()
    );
    fails_then_fast(|| buy(&shop, "1", "kim")).await;
    let load = Load::start(&shop, "kim").await;
    let call = r#"tr[data-call="vod.purchase>vod.payment"]"#;
    page.wait(&format!(
        "document.querySelector('{call}').dataset.breaker === 'open'"
    ))
    .await;
    assert_eq!(
        page.cell(r#"tr[data-context="vod.purchase"]"#, "td.health")
            .await,
        "ready"
    );
    drop(load);

    // Payment back: ready again, named no more.
    payment.proc.signal(libc::SIGCONT);
    page.wait(&format!(
        "document.querySelector('{pay} td.health').textContent === 'ready'"
    ))
    .await;
    page.wait(&format!(
        "!document.querySelector('#alerts').textContent.includes('{payment_url}')"
    ))
    .await;
    page.assert_no_errors().await;
    page.close().await;

    // What a peer reads is the process's own: no peer's contexts (no loops), same rules as
    // the rest of the console.
    let url = format!("http://127.0.0.1:{}/api/snapshot", shop.admin_port);
    let own: Value = eventually(
        "the shop's own snapshot",
        Duration::from_secs(10),
        || async {
            let response = reqwest::get(&url).await.ok()?;
            response.status().is_success().then_some(())?;
            response.json().await.ok()
        },
    )
    .await;
    let mut ids: Vec<&str> = own["map"]["apps"][0]["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["vod.catalog", "vod.mileage", "vod.purchase"]);
    assert!(own["snapshot"]["contexts"].get("vod.payment").is_none());
    let rebound = reqwest::Client::new()
        .get(&url)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403, "a DNS-rebound Host is refused");
}
