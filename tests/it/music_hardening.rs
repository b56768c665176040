//! MusiCloud under hostile input and races (issue 6): every field of every RPC passes the
//! mesh's input rules (REST through Envoy, and the internal `ApproveCopyright` on the mesh
//! port) and stores nothing when refused, while the flow goes on and the largest valid rows
//! still list; an approval key answers its own request only; deleted ids stay retired; a
//! cover names a registered original; and on PostgreSQL (READ COMMITTED) concurrent or
//! reordered requests and events never leave an approval or a source escaping its release
//! (`races`).
mod races;

use futures::future::join_all;
use mediamesh_proto::music::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::harness::rest::{WAIT, delete, get, get_until, post};
use crate::harness::{Mesh, Sandbox, eventually};

const NAME_MAX: usize = 200;
const TEXT_MAX: usize = 2000;

type Contents = pb::content_service_client::ContentServiceClient<Channel>;
type Copyrights = pb::copyright_service_client::CopyrightServiceClient<Channel>;

/// The start of a body, for assertion messages (a refused field may be megabytes).
fn short(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

/// The field a REST error names (`google.rpc.BadRequest`).
fn rest_field(body: &Value) -> &str {
    body["details"][0]["fieldViolations"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

/// The field a gRPC error names.
fn grpc_field(status: &tonic::Status) -> String {
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

/// The seed's upload with some fields replaced.
fn upload_body(changes: Value) -> Value {
    let mut body = json!({"creatorName": "TIKITIK", "title": "The Song Of Today",
        "type": "New Music", "description": "TIKITIK 1st Anniversary"});
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

fn approval(content_id: &str, creator: &str, title: &str) -> pb::ApproveCopyrightRequest {
    pb::ApproveCopyrightRequest {
        content_id: content_id.into(),
        creator_name: creator.into(),
        title: title.into(),
        r#type: "New Music".into(),
        ..Default::default()
    }
}

fn request(id: &str, kind: &str, original: &str) -> pb::CreateContentRequest {
    pb::CreateContentRequest {
        content_id: id.into(),
        creator_name: "TIKITIK".into(),
        title: format!("{id} title"),
        r#type: kind.into(),
        original_content_id: original.into(),
        ..Default::default()
    }
}

async fn contents(mesh: &Mesh) -> Contents {
    Contents::new(mesh.channel().await)
}

async fn copyrights(mesh: &Mesh) -> Copyrights {
    Copyrights::new(mesh.channel().await)
}

async fn status_of(mesh: &Mesh, id: &str) -> Option<String> {
    let request = pb::GetContentRequest {
        content_id: id.into(),
    };
    let content = contents(mesh).await.get_content(request).await.ok()?;
    Some(content.into_inner().status)
}

async fn reaches(mesh: &Mesh, id: &str, status: &str) {
    eventually(&format!("{id} {status}"), WAIT, || async {
        (status_of(mesh, id).await.as_deref() == Some(status)).then_some(())
    })
    .await
}

/// Every copyright, page by page.
async fn all_copyrights(mesh: &Mesh) -> Vec<pb::Copyright> {
    let (mut client, mut all, mut token) = (copyrights(mesh).await, Vec::new(), String::new());
    loop {
        let request = pb::ListCopyrightsRequest {
            page_size: 100,
            page_token: token,
        };
        let page = client.list_copyrights(request).await.unwrap().into_inner();
        all.extend(page.copyrights);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

async fn all_sources(mesh: &Mesh) -> Vec<pb::Source> {
    let mut client = pb::source_service_client::SourceServiceClient::new(mesh.channel().await);
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let request = pb::ListSourcesRequest {
            page_size: 100,
            page_token: token,
        };
        let page = client.list_sources(request).await.unwrap().into_inner();
        all.extend(page.sources);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

async fn all_mypages(mesh: &Mesh) -> Vec<pb::Mypage> {
    let mut client = pb::mypage_service_client::MypageServiceClient::new(mesh.channel().await);
    let (mut all, mut token) = (Vec::new(), String::new());
    loop {
        let request = pb::ListMypagesRequest {
            page_size: 100,
            page_token: token,
            ..Default::default()
        };
        let page = client.list_mypages(request).await.unwrap().into_inner();
        all.extend(page.mypages);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

/// Refused uploads (a 1.1 MB `type`, CR/LF in ids, over-long or control-character text) are
/// 400s naming the field and store nothing, and so are refused approvals on the mesh port;
/// the event flow goes on, and 100 contents with the largest valid fields (multibyte) list
/// over REST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_are_refused_and_the_flow_goes_on() {
    let sandbox = Sandbox::sqlite("music-hostile");
    let mesh = sandbox.up().await;
    let m = mesh.music();

    let refused = [
        (
            "type",
            json!({"contentId": "huge-type", "type": "x".repeat(1_100_000)}),
        ),
        ("content_id", json!({"contentId": "a\r\nb"})),
        ("content_id", json!({"contentId": "k".repeat(65)})),
        (
            "creator_name",
            json!({"contentId": "bad-creator", "creatorName": "a\r\nb"}),
        ),
        (
            "creator_name",
            json!({"contentId": "no-creator", "creatorName": " "}),
        ),
        (
            "title",
            json!({"contentId": "long-title", "title": "가".repeat(NAME_MAX + 1)}),
        ),
        ("type", json!({"contentId": "bell-type", "type": "a\u{7}b"})),
        (
            "description",
            json!({"contentId": "long-desc", "description": "가".repeat(TEXT_MAX + 1)}),
        ),
        (
            "original_content_id",
            json!({"contentId": "bad-original", "type": "Cover", "originalContentId": "x\r\ny"}),
        ),
        // A type that says cover or derivative in any words or case names an original.
        (
            "original_content_id",
            json!({"contentId": "cover-song", "type": "Cover song"}),
        ),
        (
            "original_content_id",
            json!({"contentId": "shouted-cover", "type": "COVER"}),
        ),
        (
            "original_content_id",
            json!({"contentId": "a-derivative", "type": "a derivative-work"}),
        ),
    ];
    for (field, changes) in refused {
        let (status, body) = post(format!("{m}/contents"), upload_body(changes)).await;
        assert_eq!(
            (status, rest_field(&body)),
            (400, field),
            "{}",
            short(&body)
        );
    }
    for id in [
        "huge-type",
        "bad-creator",
        "no-creator",
        "long-title",
        "bell-type",
        "long-desc",
        "bad-original",
        "cover-song",
        "shouted-cover",
        "a-derivative",
    ] {
        assert_eq!(
            get(format!("{m}/contents/{id}")).await.0,
            404,
            "{id} was not stored"
        );
    }
    // Path ids follow the one id rule too.
    let long = "k".repeat(65);
    for (status, body) in [
        get(format!("{m}/contents/{long}")).await,
        delete(format!("{m}/contents/a%20b")).await,
    ] {
        assert_eq!(
            (status, rest_field(&body)),
            (400, "content_id"),
            "{}",
            short(&body)
        );
    }
    let long = "a".repeat(NAME_MAX + 1);
    for list in ["contents", "mypages"] {
        let (status, body) = get(format!("{m}/{list}?creatorName={long}")).await;
        assert_eq!(
            (status, rest_field(&body)),
            (400, "creator_name"),
            "{list}: {}",
            short(&body)
        );
    }

    // The internal approval validates exactly like a public RPC.
    let mut copyright = copyrights(&mesh).await;
    let big = "x".repeat(1_100_000);
    let refused = [
        ("content_id", approval("x\r\ny", "TIKITIK", "Today")),
        ("content_id", approval("", "TIKITIK", "Today")),
        ("creator_name", approval("ok-1", "", "Today")),
        ("title", approval("ok-2", "TIKITIK", &big)),
        (
            "type",
            pb::ApproveCopyrightRequest {
                r#type: "다".repeat(NAME_MAX + 1),
                ..approval("ok-3", "T", "T")
            },
        ),
        (
            "original_content_id",
            pb::ApproveCopyrightRequest {
                original_content_id: "a b".into(),
                ..approval("ok-4", "T", "T")
            },
        ),
        (
            "original_creator_name",
            pb::ApproveCopyrightRequest {
                original_creator_name: "a\0b".into(),
                ..approval("ok-5", "T", "T")
            },
        ),
        (
            "original_content_id",
            pb::ApproveCopyrightRequest {
                r#type: "Cover".into(),
                ..approval("ok-6", "T", "T")
            },
        ),
    ];
    for (field, request) in refused {
        let status = copyright.approve_copyright(request).await.unwrap_err();
        assert_eq!(
            (status.code(), grpc_field(&status).as_str()),
            (Code::InvalidArgument, field),
            "{status:?}"
        );
    }
    let (status, stored) = get(format!("{m}/copyrights")).await;
    assert_eq!(status, 200);
    assert!(
        stored["copyrights"].as_array().is_none_or(Vec::is_empty),
        "{}",
        short(&stored)
    );

    // The flow did not stop: a normal upload still becomes REGISTERED.
    let (status, song) = post(format!("{m}/contents"), upload_body(json!({}))).await;
    assert_eq!(
        (status, song["status"].as_str()),
        (200, Some("APPROVED")),
        "{song}"
    );
    let id = song["contentId"].as_str().unwrap().to_owned();
    get_until(format!("{m}/contents/{id}"), "registered", |c| {
        c["status"] == "REGISTERED"
    })
    .await;

    // The largest valid rows, 100 of them, in three-byte characters: every list answers.
    let creator = "가".repeat(NAME_MAX);
    for chunk in (0..100).collect::<Vec<usize>>().chunks(10) {
        let uploads = chunk.iter().map(|n| {
            let body = json!({
                "contentId": format!("{n:03}-{}", "k".repeat(60)),
                "creatorName": creator,
                "title": format!("{n:03}{}", "나".repeat(NAME_MAX - 3)),
                "type": "다".repeat(NAME_MAX),
                "description": "라".repeat(TEXT_MAX),
            });
            post(format!("{m}/contents"), body)
        });
        for (status, body) in join_all(uploads).await {
            assert_eq!(
                (status, body["status"].as_str()),
                (200, Some("APPROVED")),
                "{}",
                short(&body)
            );
        }
    }
    get_until(
        format!("{m}/mypages?creatorName={creator}&pageSize=100"),
        "100 registered pages",
        |p| {
            p["mypages"].as_array().is_some_and(|pages| {
                pages.len() == 100 && pages.iter().all(|p| p["status"] == "REGISTERED")
            })
        },
    )
    .await;
    for list in [
        "contents?pageSize=100",
        &format!("contents?pageSize=100&creatorName={creator}"),
        "sources?pageSize=100",
        "copyrights?pageSize=100",
    ] {
        let (status, body) = get(format!("{m}/{list}")).await;
        assert_eq!(status, 200, "{list}: {}", short(&body));
        let rows = body.as_object().unwrap().values().find_map(Value::as_array);
        assert_eq!(rows.map(Vec::len), Some(100), "{list}");
    }
}

/// `ApproveCopyright` is idempotent by content id: the same request again answers what was
/// recorded; another request under a recorded key is ALREADY_EXISTS naming `content_id`,
/// and an upload refused that way does not release the approval it collided with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_approval_key_answers_its_own_request_only() {
    let sandbox = Sandbox::sqlite("music-approval-key");
    let mesh = sandbox.serve("music").await;
    let mut copyright = copyrights(&mesh).await;

    let asked = approval("song-1", "TIKITIK", "Today");
    let first = copyright
        .approve_copyright(asked.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.status, "APPROVED");
    let others = [
        approval("song-1", "Someone else", "Today"),
        approval("song-1", "TIKITIK", "Tomorrow"),
        pb::ApproveCopyrightRequest {
            r#type: "Live".into(),
            ..asked.clone()
        },
        pb::ApproveCopyrightRequest {
            original_content_id: "song-0".into(),
            ..asked.clone()
        },
    ];
    for other in others {
        let status = copyright
            .approve_copyright(other.clone())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists, "{other:?}: {status:?}");
        assert!(status.message().starts_with("content_id"), "{status:?}");
    }
    let retried = copyright
        .approve_copyright(asked)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, first, "a retry answers what was recorded");

    // An upload under a key approved for another request: refused, and not released.
    let squatted = approval("taken", "Squatter", "Mine");
    copyright.approve_copyright(squatted).await.unwrap();
    let mut content = contents(&mesh).await;
    let status = content
        .create_content(request("taken", "New Music", ""))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(status.message().starts_with("content_id"), "{status:?}");
    // A delete later in content's event order: once it is released, anything before it was
    // applied by copyright too.
    content
        .create_content(request("barrier", "New Music", ""))
        .await
        .unwrap();
    let delete = pb::DeleteContentRequest {
        content_id: "barrier".into(),
    };
    content.delete_content(delete).await.unwrap();
    reaches(&mesh, "barrier", "RELEASED").await;
    let taken = all_copyrights(&mesh)
        .await
        .into_iter()
        .find(|c| c.content_id == "taken");
    assert_eq!(
        taken.map(|c| (c.creator_name, c.status)),
        Some(("Squatter".into(), "APPROVED".into()))
    );
}

/// A deleted content's id is retired: creating another content under it, while DELETED or
/// once RELEASED, is ALREADY_EXISTS naming `content_id`; the same upload again is a retry
/// (AIP-155) answered the content as it is; neither changes anything anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_ids_stay_retired() {
    let sandbox = Sandbox::sqlite("music-retired");
    let mesh = sandbox.serve("music").await;
    let mut content = contents(&mesh).await;
    content
        .create_content(request("gone", "New Music", ""))
        .await
        .unwrap();
    reaches(&mesh, "gone", "REGISTERED").await;
    let delete = pb::DeleteContentRequest {
        content_id: "gone".into(),
    };
    content.delete_content(delete).await.unwrap();

    let again = |title: &str| pb::CreateContentRequest {
        title: title.into(),
        ..request("gone", "New Music", "")
    };
    let retried = content.create_content(again("gone title")).await.unwrap();
    let retried = retried.into_inner().status;
    assert!(
        ["DELETED", "RELEASED"].contains(&retried.as_str()),
        "{retried}"
    );
    let status = content
        .create_content(again("another title"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(
        status.message().starts_with("content_id") && status.message().contains("retired"),
        "{status:?}"
    );
    reaches(&mesh, "gone", "RELEASED").await;
    let status = content.create_content(again("another")).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    // The approval is not given again either: a retry answers the released record.
    let retry = approval("gone", "TIKITIK", "gone title");
    let answer = copyrights(&mesh)
        .await
        .approve_copyright(retry)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status, "RELEASED");

    assert_eq!(status_of(&mesh, "gone").await.as_deref(), Some("RELEASED"));
    eventually("source and mypage released", WAIT, || async {
        let sources = all_sources(&mesh).await;
        let pages = all_mypages(&mesh).await;
        let source = sources
            .iter()
            .filter(|s| s.content_id == "gone")
            .map(|s| s.status.as_str());
        let page = pages.iter().filter(|p| p.content_id == "gone");
        (source.collect::<Vec<_>>() == ["RELEASED"]
            && page
                .map(|p| (p.status.as_str(), p.title.as_str()))
                .collect::<Vec<_>>()
                == [("RELEASED", "gone title")])
        .then_some(())
    })
    .await;
}

/// A cover (or any content naming an original) names a registered original: an unknown one,
/// itself, one not yet registered or a deleted one is a 400 naming `original_content_id`, and
/// nothing of the cover is recorded anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cover_names_a_registered_original() {
    let sandbox = Sandbox::sqlite("music-covers");
    let mesh = sandbox
        .serve("music.content,music.copyright,music.mypage")
        .await;
    let mut source = sandbox.serve("music.source").await;
    let mut content = contents(&mesh).await;
    for id in ["orig", "gone-orig"] {
        content
            .create_content(request(id, "New Music", ""))
            .await
            .unwrap();
        reaches(&mesh, id, "REGISTERED").await;
    }
    let delete = pb::DeleteContentRequest {
        content_id: "gone-orig".into(),
    };
    content.delete_content(delete).await.unwrap();
    source.proc.kill9();
    content
        .create_content(request("pending", "New Music", ""))
        .await
        .unwrap();
    assert_eq!(
        status_of(&mesh, "pending").await.as_deref(),
        Some("APPROVED")
    );

    let refused = [
        (request("c2", "Cover", "c2"), "own original"),
        (request("c3", "Cover", "pending"), "not yet REGISTERED"),
        (request("c4", "Cover", "gone-orig"), "was deleted"),
        (request("c5", "Derivative work", ""), "names its original"),
    ];
    for (cover, why) in &refused {
        let status = content.create_content(cover.clone()).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(grpc_field(&status), "original_content_id", "{status:?}");
        assert!(status.message().contains(why), "{why}: {status:?}");
    }
    // An original that is no content is NOT_FOUND, naming the field it came in.
    for (id, kind) in [("c1", "Cover"), ("c6", "New Music")] {
        let status = content
            .create_content(request(id, kind, "nope"))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(
            status.message(),
            "original_content_id: content \"nope\" not found"
        );
    }
    reaches(&mesh, "gone-orig", "RELEASED").await;
    let status = content
        .create_content(request("c7", "Cover", "gone-orig"))
        .await
        .unwrap_err();
    assert!(status.message().contains("was deleted"), "{status:?}");

    // A valid cover of a registered original goes through, and is the only cover anywhere.
    let cover = content
        .create_content(request("c8", "Cover", "orig"))
        .await
        .unwrap();
    assert_eq!(cover.into_inner().status, "APPROVED");
    let pages = eventually("the original's page lists its cover", WAIT, || async {
        let pages = all_mypages(&mesh).await;
        let orig = pages.iter().find(|p| p.content_id == "orig")?;
        (orig.cover_content_ids == ["c8"]).then_some(pages)
    })
    .await;
    let refused_ids = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];
    for id in refused_ids {
        assert_eq!(status_of(&mesh, id).await, None, "{id} was not recorded");
    }
    let stored = all_copyrights(&mesh).await;
    assert!(
        stored
            .iter()
            .all(|c| !refused_ids.contains(&c.content_id.as_str())),
        "{stored:?}"
    );
    assert!(
        pages
            .iter()
            .all(|p| !refused_ids.contains(&p.content_id.as_str())),
        "{pages:?}"
    );
}
