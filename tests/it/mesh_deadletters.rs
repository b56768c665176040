//! One row or event can never stop a flow: what NATS cannot carry or a handler can never
//! apply goes to the dead letters whole (headers too), the rest flow on, and an operator can
//! list and replay them with `mediamesh deadletters`.
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mediamesh_proto::vod::v1 as pb;
use prost::Message;

use crate::harness::{BIN, Mesh, Sandbox, buy, eventually, mileage_of};

/// Runs a statement on a context's SQLite file beside the running mesh.
fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
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
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `mediamesh deadletters list` as parsed JSON lines.
fn letters(data: &Path, context: &str) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .args(["deadletters", "list", "--context", context, "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn relay_restarts(mesh: &Mesh) -> usize {
    let url = format!("http://127.0.0.1:{}/metrics", mesh.admin_port);
    let body = crate::harness::rest::get(url).await.1;
    let text = body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .filter(|l| l.starts_with("mediamesh_task_restarts_total"))
        .count()
}

/// Rows an older version (or a bug) left in the outbox that NATS can never carry: a header
/// value with CR/LF (async-nats panics on it) and a message over the broker's max payload.
/// Both are dead-lettered with their reason; the relay keeps running and later events flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpublishable_rows_are_dead_lettered_and_the_rest_flow() {
    let sandbox = Sandbox::sqlite("outbox-poison");
    let mesh = sandbox.serve("vod").await;
    let data = sandbox.logs.path().join("data");
    let db = data.join("vod.payment.db");
    sqlite(
        &db,
        r#"INSERT INTO mesh_outbox (event_id, subject, headers, payload, created_at) VALUES
           ('crlf-1', 'vod.payment.PaymentApproved', '{"Mm-Aggregate-Id":"x\r\ny"}', X'0a0178', 0),
           ('big-1', 'vod.payment.PaymentApproved', '{}', zeroblob(1100000), 0);"#,
    );

    buy(&mesh, "1", "flow-on").await.unwrap();
    eventually(
        "mileage after the bad rows",
        Duration::from_secs(20),
        || async {
            mileage_of(&mesh, "flow-on")
                .await
                .filter(|m| m.points == 1000)
        },
    )
    .await;
    assert_eq!(sqlite(&db, "SELECT COUNT(*) FROM mesh_outbox"), "0");

    let letters = letters(&data, "vod.payment");
    let by_id = |id: &str| {
        letters
            .iter()
            .find(|l| l["eventId"] == id)
            .unwrap_or_else(|| panic!("{id} not dead-lettered: {letters:?}"))
            .clone()
    };
    let crlf = by_id("crlf-1");
    assert_eq!(crlf["consumer"], "outbox");
    assert!(crlf["error"].as_str().unwrap().contains("Mm-Aggregate-Id"));
    assert_eq!(
        crlf["headers"]["Mm-Aggregate-Id"], "x\r\ny",
        "headers kept whole"
    );
    let big = by_id("big-1");
    assert!(big["error"].as_str().unwrap().contains("max payload"));
    assert_eq!(big["payloadBytes"], 1_100_000);
    assert_eq!(relay_restarts(&mesh).await, 0, "the relay never panicked");
    mesh.wait_serving().await;
}

/// A consumer's dead letter keeps the event's headers; a letter replayed after its cause is
/// fixed is applied exactly once, under its original event id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_keep_headers_and_replay_once() {
    let sandbox = Sandbox::sqlite("replay");
    let mesh = sandbox.serve("vod").await;
    let data = sandbox.logs.path().join("data");

    let js = async_nats::jetstream::new(async_nats::connect(&sandbox.nats.url).await.unwrap());
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "poison-2");
    headers.insert("Mm-Correlation-Id", "purchase-77");
    js.publish_with_headers("vod.payment.PaymentApproved", headers, vec![0xff; 3].into())
        .await
        .unwrap()
        .await
        .unwrap();
    let poison = eventually("the poison dead-lettered", Duration::from_secs(20), || {
        let data = data.clone();
        async move { letters(&data, "vod.mileage").into_iter().next() }
    })
    .await;
    assert_eq!(poison["eventId"], "poison-2");
    assert_eq!(poison["consumer"], "vod_mileage");
    assert_eq!(poison["headers"]["Mm-Correlation-Id"], "purchase-77");

    // A valid event a past failure left in the dead letters: replay applies it, once.
    let event = pb::PaymentApproved {
        purchase_id: "p-lost".into(),
        customer_id: "replayed".into(),
        amount: 1000,
        free_vod: false,
    };
    let hex: String = event
        .encode_to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sqlite(
        &data.join("vod.mileage.db"),
        &format!(
            "INSERT INTO mesh_dead_letters (event_id, consumer, subject, headers, payload, error, \
             deliveries, failed_at) VALUES ('lost-1', 'vod_mileage', 'vod.payment.PaymentApproved', \
             '{{\"Mm-Correlation-Id\":\"p-lost\"}}', X'{hex}', 'database was down', 5, 'then')"
        ),
    );
    for _ in 0..2 {
        let out = Command::new(BIN)
            .args([
                "deadletters",
                "replay",
                "--context",
                "vod.mileage",
                "--id",
                "lost-1",
            ])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eventually("the replayed credit", Duration::from_secs(20), || async {
        mileage_of(&mesh, "replayed")
            .await
            .filter(|m| m.points == 1000)
    })
    .await;
    let left: Vec<_> = letters(&data, "vod.mileage")
        .into_iter()
        .map(|l| l["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        left,
        ["poison-2"],
        "the replayed letter is gone, the poison stays"
    );
    // Applied once: a later purchase adds exactly its own 1000.
    buy(&mesh, "1", "replayed").await.unwrap();
    eventually("one more credit", Duration::from_secs(20), || async {
        mileage_of(&mesh, "replayed")
            .await
            .filter(|m| m.points == 2000)
    })
    .await;
}
