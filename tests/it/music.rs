//! MusiCloud (seed 003) over REST through Envoy, on SQLite and PostgreSQL: upload with
//! synchronous copyright approval, Uploaded -> Approved -> Registered, covers linked to
//! registered originals, the delete saga releasing the copyright, the creator's mypage;
//! copyright hung (breaker) and source down (catch-up); mypage rebuilt by replay.
use std::process::Command;
use std::time::Duration;

use futures::future::BoxFuture;
use mediamesh_proto::music::v1 as pb;
use serde_json::{Value, json};

use crate::harness::rest::{WAIT, delete, get, get_until, post};
use crate::harness::{BIN, Mesh, Sandbox, eventually, fails_then_fast, free_port};

/// The seed's upload command, as written.
fn seed_upload() -> Value {
    json!({"creatorName": "TIKITIK", "title": "The Song Of Today", "type": "New Music", "description": "TIKITIK 1st Anniversary"})
}

async fn status_of(m: &str, id: &str, status: &str) -> Value {
    get_until(
        format!("{m}/contents/{id}"),
        &format!("content {status}"),
        |c| c["status"] == status,
    )
    .await
}

/// A seed scenario: runs against the music REST base URL of a mesh it shares with the
/// others, so it names its own creators and contents.
type Scenario = fn(String) -> BoxFuture<'static, ()>;

/// The seed flow as named scenarios, independent of each other: one mesh per backend (no
/// slower than one long flow), every scenario run to its end and each failure named.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("an upload is approved then registered", |m| {
        Box::pin(upload_approved_then_registered(m))
    }),
    ("a cover names a registered original", |m| {
        Box::pin(cover_names_a_registered_original(m))
    }),
    ("a delete releases the copyright", |m| {
        Box::pin(delete_releases_the_copyright(m))
    }),
    ("bad requests are refused", |m| {
        Box::pin(bad_requests_are_refused(m))
    }),
];

async fn seed_scenarios(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let m = mesh.music();
    let runs: Vec<_> = SCENARIOS
        .iter()
        .map(|(name, scenario)| (*name, tokio::spawn(scenario(m.clone()))))
        .collect();
    let mut failed = Vec::new();
    for (name, run) in runs {
        if run.await.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}

/// Uploads the seed's content as `creator` and answers its id once REGISTERED.
async fn registered_upload(m: &str, creator: &str) -> String {
    let mut upload = seed_upload();
    upload["creatorName"] = json!(creator);
    let (status, song) = post(format!("{m}/contents"), upload).await;
    assert_eq!(
        (status, song["status"].as_str()),
        (200, Some("APPROVED")),
        "{song}"
    );
    let id = song["contentId"].as_str().unwrap().to_owned();
    status_of(m, &id, "REGISTERED").await;
    id
}

/// The page of `creator`'s first content once `ok` holds.
async fn mypage_until(m: &str, creator: &str, what: &str, ok: impl Fn(&Value) -> bool) {
    get_until(format!("{m}/mypages?creatorName={creator}"), what, |p| {
        ok(&p["mypages"][0])
    })
    .await;
}

/// Approved synchronously, then registered when source registers the sound.
async fn upload_approved_then_registered(m: String) {
    let id = registered_upload(&m, "TIKITIK").await;
    let (_, copyrights) = get(format!("{m}/copyrights")).await;
    let copyright = copyrights["copyrights"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["contentId"] == id.as_str()).cloned());
    assert_eq!(
        copyright.map(|c| c["status"].clone()),
        Some(json!("APPROVED")),
        "{copyrights}"
    );
    let (_, sources) = get(format!("{m}/sources")).await;
    let registered = sources["sources"].as_array().is_some_and(|s| {
        s.iter()
            .any(|s| s["contentId"] == id.as_str() && s["status"] == "REGISTERED")
    });
    assert!(registered, "{sources}");
    mypage_until(&m, "TIKITIK", "the creator sees it registered", |p| {
        p["status"] == "REGISTERED"
    })
    .await;
}

/// Covers name a registered original; the approval links them and tells its creator.
async fn cover_names_a_registered_original(m: String) {
    let original = registered_upload(&m, "Original").await;
    let (status, body) = post(
        format!("{m}/contents"),
        json!({"creatorName": "Fan", "title": "x", "type": "Cover"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"],
        "original_content_id"
    );
    let cover = json!({"creatorName": "Fan", "title": "Today (cover)", "type": "Cover", "originalContentId": "nope"});
    let (status, body) = post(format!("{m}/contents"), cover).await;
    assert_eq!(status, 404, "an original that is no content: {body}");
    assert_eq!(
        body["message"],
        "original_content_id: content \"nope\" not found"
    );
    let cover = json!({"creatorName": "Fan", "title": "Today (cover)", "type": "Cover", "originalContentId": original});
    let (status, cover) = post(format!("{m}/contents"), cover).await;
    assert_eq!(
        (status, cover["status"].as_str()),
        (200, Some("APPROVED")),
        "{cover}"
    );
    let cover_id = cover["contentId"].as_str().unwrap().to_owned();
    mypage_until(
        &m,
        "Original",
        "the original's creator sees the cover",
        |p| p["coverContentIds"] == json!([cover_id]),
    )
    .await;
}

/// Delete: the saga releases the copyright and the status moves on.
async fn delete_releases_the_copyright(m: String) {
    let id = registered_upload(&m, "Deleter").await;
    let (status, deleted) = delete(format!("{m}/contents/{id}")).await;
    assert_eq!(
        (status, deleted["status"].as_str()),
        (200, Some("DELETED")),
        "{deleted}"
    );
    status_of(&m, &id, "RELEASED").await;
    get_until(format!("{m}/copyrights"), "copyright released", |c| {
        c["copyrights"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["contentId"] == id.as_str() && c["status"] == "RELEASED")
        })
    })
    .await;
    mypage_until(&m, "Deleter", "mypage released", |p| {
        p["status"] == "RELEASED"
    })
    .await;
    let (status, again) = delete(format!("{m}/contents/{id}")).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("RELEASED")));
}

async fn bad_requests_are_refused(m: String) {
    let (status, body) = post(format!("{m}/contents"), json!({"title": "no creator"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["details"][0]["fieldViolations"][0]["field"],
        "creator_name"
    );
    assert_eq!(get(format!("{m}/contents/nope")).await.0, 404);
    assert_eq!(delete(format!("{m}/contents/nope")).await.0, 404);
    assert_eq!(get(format!("{m}/mypages?pageSize=-1")).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn music_seed_scenarios_on_sqlite() {
    seed_scenarios(Sandbox::sqlite("music-sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn music_seed_scenarios_on_postgres() {
    seed_scenarios(Sandbox::postgres("music-pg")).await;
}

async fn upload(mesh: &Mesh, title: &str) -> Result<pb::Content, tonic::Status> {
    let mut client = pb::content_service_client::ContentServiceClient::new(mesh.channel().await);
    let request = pb::CreateContentRequest {
        creator_name: "TIKITIK".into(),
        title: title.into(),
        r#type: "New Music".into(),
        ..Default::default()
    };
    client.create_content(request).await.map(|r| r.into_inner())
}

async fn content(mesh: &Mesh, id: &str) -> pb::Content {
    let mut client = pb::content_service_client::ContentServiceClient::new(mesh.channel().await);
    client
        .get_content(pb::GetContentRequest {
            content_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Copyright hung: uploads answer UNAVAILABLE with RetryInfo within about a second, then at
/// once while the breaker is open, and heal; an upload that failed is never registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copyright_hung_trips_the_breaker_and_heals() {
    let sandbox = Sandbox::sqlite("copyright-hung");
    let port = free_port();
    let copyright = sandbox.serve_with(port, "music.copyright", &[], &[]).await;
    let peer = format!("music.copyright=http://127.0.0.1:{port}");
    let rest = sandbox
        .serve_with(
            free_port(),
            "music.content,music.source,music.mypage",
            &["--peer", &peer],
            &[],
        )
        .await;
    assert_eq!(upload(&rest, "before").await.unwrap().status, "APPROVED");

    copyright.proc.signal(libc::SIGSTOP);
    let slowest = fails_then_fast(|| upload(&rest, "during")).await;
    assert!(
        slowest >= Duration::from_millis(500),
        "the first failures waited for the timeout: {slowest:?}"
    );
    copyright.proc.signal(libc::SIGCONT);
    let healed = eventually("uploads heal", Duration::from_secs(15), || async {
        upload(&rest, "after").await.ok()
    })
    .await;
    assert_eq!(healed.status, "APPROVED");

    // Down: refused at once as well, and healed when copyright is back.
    let mut copyright = copyright;
    copyright.proc.kill9();
    fails_then_fast(|| upload(&rest, "down")).await;
    let _copyright = sandbox.serve_with(port, "music.copyright", &[], &[]).await;
    eventually(
        "uploads heal after restart",
        Duration::from_secs(15),
        || async { upload(&rest, "back").await.ok() },
    )
    .await;

    let mut client = pb::content_service_client::ContentServiceClient::new(rest.channel().await);
    let all = client
        .list_contents(pb::ListContentsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let failed: Vec<_> = all
        .contents
        .iter()
        .filter(|c| c.status == "FAILED")
        .collect();
    assert!(!failed.is_empty(), "timed-out uploads are FAILED");
    status_of_grpc(&rest, &healed.content_id, "REGISTERED").await;
    for c in failed {
        assert_eq!(
            content(&rest, &c.content_id).await.status,
            "FAILED",
            "never registered"
        );
    }
}

async fn status_of_grpc(mesh: &Mesh, id: &str, status: &str) {
    eventually(&format!("{id} {status}"), WAIT, || async {
        (content(mesh, id).await.status == status).then_some(())
    })
    .await;
}

async fn mypages(mesh: &Mesh) -> Vec<pb::Mypage> {
    let mut client = pb::mypage_service_client::MypageServiceClient::new(mesh.channel().await);
    let request = pb::ListMypagesRequest {
        page_size: 1000,
        ..Default::default()
    };
    client
        .list_mypages(request)
        .await
        .unwrap()
        .into_inner()
        .mypages
}

/// Source down: uploads go on and wait at APPROVED, then catch up to REGISTERED when source
/// returns. Then the mypage view is rebuilt by replay and equals the live one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_down_then_catching_up_and_mypage_rebuild() {
    let sandbox = Sandbox::sqlite("source-down");
    let mut rest = sandbox
        .serve("music.content,music.copyright,music.mypage")
        .await;
    let mut source = sandbox.serve("music.source").await;
    let first = upload(&rest, "first").await.unwrap();
    status_of_grpc(&rest, &first.content_id, "REGISTERED").await;

    source.proc.kill9();
    let waiting = upload(&rest, "waiting").await.unwrap();
    assert_eq!(waiting.status, "APPROVED");
    // The approval is out (mypage saw it) while content still waits for the sound source.
    eventually("mypage saw the approval", WAIT, || async {
        mypages(&rest)
            .await
            .iter()
            .any(|p| p.content_id == waiting.content_id && p.status == "APPROVED")
            .then_some(())
    })
    .await;
    assert_eq!(content(&rest, &waiting.content_id).await.status, "APPROVED");

    let _source = sandbox
        .serve_with(source.grpc_port, "music.source", &[], &[])
        .await;
    status_of_grpc(&rest, &waiting.content_id, "REGISTERED").await;
    let live = eventually("mypage settled", WAIT, || async {
        let pages = mypages(&rest).await;
        pages
            .iter()
            .all(|p| p.status == "REGISTERED")
            .then_some(pages)
    })
    .await;
    assert_eq!(live.len(), 2);

    assert!(rest.proc.terminate(Duration::from_secs(30)).success());
    let out = Command::new(BIN)
        .args([
            "views",
            "rebuild",
            "--target",
            "music.mypage",
            "--nats-url",
            &sandbox.nats.url,
        ])
        .arg("--data-dir")
        .arg(sandbox.logs.path().join("data"))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && printed.contains("music.mypage: views rebuilt from"),
        "{printed}"
    );
    rest = sandbox
        .serve("music.content,music.copyright,music.mypage")
        .await;
    assert_eq!(
        mypages(&rest).await,
        live,
        "the rebuilt view equals the live one"
    );
}
