//! Video's supporting contexts over REST (Envoy on video's port) against real nats-server,
//! SQLite and PostgreSQL: policy (banned words, takedowns, refunds, rejects), comment
//! (`video_comment.rs`) and the channel view, as named scenarios side by side on one mesh
//! per backend; and policy shedding load when overloaded (served alone).
//!
//! Every policy's banned words apply to every upload, and the most lenient policy decides
//! every refund: the scenarios use banned words no other title contains and refund bars that
//! do not change one another's outcome.
use std::time::Duration;

use futures::future::BoxFuture;
use mediamesh_proto::video::v1 as pb;
use serde_json::{Value, json};

use crate::harness::rest::{delete, get, get_until, patch, post};
use crate::harness::{Sandbox, free_port};

pub(crate) fn field(body: &Value) -> &Value {
    &body["details"][0]["fieldViolations"][0]["field"]
}

pub(crate) async fn created(url: String, body: Value) -> Value {
    let (status, answer) = post(url.clone(), body).await;
    assert_eq!(status, 200, "POST {url}: {answer}");
    answer
}

/// A client `c` with one channel `ch`.
pub(crate) async fn client_with_channel(v: &str, c: &str, ch: &str) {
    created(format!("{v}/clientSystems"), json!({"clientId": c})).await;
    created(
        format!("{v}/channelSystems"),
        json!({"channelId": ch, "channelName": ch, "clientId": c}),
    )
    .await;
}

pub(crate) async fn upload(v: &str, video: &str, c: &str, ch: &str, title: &str, views: &str) {
    created(
        format!("{v}/videoServices"),
        json!({"videoId": video, "clientId": c, "channelId": ch, "title": title, "viewCount": views}),
    )
    .await;
}

pub(crate) async fn status_of(v: &str, video: &str, status: &str) {
    get_until(
        format!("{v}/videoServices/{video}"),
        &format!("video {video} {status}"),
        |body| body["status"] == status,
    )
    .await;
}

/// The client's notifications, as (kind, subjectId).
async fn notified(v: &str, c: &str, want: &[(&str, &str)]) {
    get_until(
        format!("{v}/notifications?clientId={c}"),
        &format!("notifications of {c}: {want:?}"),
        |body| {
            let got: Vec<(String, String)> = body["notifications"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    let text = |k: &str| n[k].as_str().unwrap_or_default().to_owned();
                    (text("kind"), text("subjectId"))
                })
                .collect();
            want.iter()
                .all(|(k, s)| got.iter().any(|(gk, gs)| gk == k && gs == s))
        },
    )
    .await;
}

async fn a_banned_title_is_taken_down_and_notified(v: String) {
    client_with_channel(&v, "p-c", "p-ch").await;
    created(
        format!("{v}/policyManagements"),
        json!({"policyId": "p-ban", "refundPolicy": "100", "bannedWords": ["Zorkword"]}),
    )
    .await;
    upload(&v, "p-1", "p-c", "p-ch", "cheap zorkword here", "5").await;
    upload(&v, "p-2", "p-c", "p-ch", "gardening", "3").await;
    status_of(&v, "p-1", "REMOVED_BY_POLICY").await;
    // An edit is checked as an upload is.
    let (status, body) = patch(
        format!("{v}/videoServices/p-2"),
        json!({"title": "gardening ZORKWORD"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    status_of(&v, "p-2", "REMOVED_BY_POLICY").await;
    get_until(
        format!("{v}/channelSystems/p-ch"),
        "both out of the channel's total",
        |c| c["totalView"] == json!(0) && c["videoCount"] == json!(0),
    )
    .await;
    notified(
        &v,
        "p-c",
        &[
            ("VIDEO_UPLOADED", "p-1"),
            ("VIDEO_REMOVED_BY_POLICY", "p-1"),
            ("VIDEO_EDITED", "p-2"),
            ("VIDEO_REMOVED_BY_POLICY", "p-2"),
        ],
    )
    .await;
}

async fn a_deleted_policy_takes_its_video_down(v: String) {
    client_with_channel(&v, "d-c", "d-ch").await;
    upload(&v, "d-1", "d-c", "d-ch", "cooking", "4").await;
    created(
        format!("{v}/policyManagements"),
        json!({"policyId": "d-pol", "refundPolicy": "100", "deleteVideoId": "d-1"}),
    )
    .await;
    let (status, body) = delete(format!("{v}/policyManagements/d-pol")).await;
    assert_eq!(status, 200, "{body}");
    status_of(&v, "d-1", "REMOVED_BY_POLICY").await;
    let (status, _) = get(format!("{v}/policyManagements/d-pol")).await;
    assert_eq!(status, 404);
}

async fn refunds_are_decided_against_the_most_lenient_policy(v: String) {
    created(
        format!("{v}/policyManagements"),
        json!({"policyId": "r-pol", "refundPolicy": "5"}),
    )
    .await;
    client_with_channel(&v, "r-rich", "r-ch").await;
    created(format!("{v}/clientSystems"), json!({"clientId": "r-poor"})).await;
    upload(&v, "r-1", "r-rich", "r-ch", "cooking", "7").await;
    get_until(format!("{v}/clientSystems/r-rich"), "r-rich at 7", |c| {
        c["totalView"] == json!(7)
    })
    .await;
    for (request, client) in [("r-q1", "r-rich"), ("r-q2", "r-poor")] {
        created(
            format!("{v}/refundRequests"),
            json!({"refundRequestId": request, "clientId": client}),
        )
        .await;
    }
    for (request, client, want) in [
        ("r-q1", "r-rich", "APPROVED"),
        ("r-q2", "r-poor", "REJECTED"),
    ] {
        get_until(
            format!("{v}/channelViews?clientId={client}"),
            &format!("refund {request} {want} on {client}'s screen"),
            |view| {
                view["refunds"][0]["refundRequestId"] == request
                    && view["refunds"][0]["status"] == want
            },
        )
        .await;
        notified(&v, client, &[("REFUND_DECIDED", request)]).await;
    }
}

async fn policies_are_managed_and_bad_requests_named(v: String) {
    let p = created(
        format!("{v}/policyManagements"),
        json!({"policyId": "m-pol", "refundPolicy": "10", "deleteVideoId": "m-v"}),
    )
    .await;
    assert_eq!(
        p,
        json!({"policyId": "m-pol", "refundPolicy": "10", "deleteVideoId": "m-v", "bannedWords": []})
    );
    let (status, changed) = patch(
        format!("{v}/policyManagements/m-pol"),
        json!({"policyId": "m-pol", "refundPolicy": "50", "bannedWords": ["m-word"]}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            &changed["refundPolicy"],
            &changed["deleteVideoId"],
            &changed["bannedWords"]
        ),
        (&json!("50"), &json!("m-v"), &json!(["m-word"]))
    );
    let (status, listed) = get(format!("{v}/policyManagements?pageSize=100")).await;
    assert_eq!(status, 200);
    assert!(
        listed["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["policyId"] == "m-pol"),
        "{listed}"
    );
    let (status, body) = post(
        format!("{v}/policyManagements"),
        json!({"policyId": "m-pol", "refundPolicy": "1"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    for (body, name) in [
        (json!({"policyId": "m x", "refundPolicy": "1"}), "policy_id"),
        (json!({"refundPolicy": "-1"}), "refund_policy"),
        (json!({"deleteVideoId": "a/b"}), "delete_video_id"),
        (json!({"bannedWords": [""]}), "banned_words"),
    ] {
        let (status, answer) = post(format!("{v}/policyManagements"), body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(field(&answer), name, "{answer}");
    }
    let (status, _) = patch(
        format!("{v}/policyManagements/m-none"),
        json!({"refundPolicy": "1"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = delete(format!("{v}/policyManagements/m-none")).await;
    assert_eq!(status, 404);
    let (status, body) = get(format!("{v}/policyManagements?pageSize=-1")).await;
    assert_eq!((status, field(&body)), (400, &json!("page_size")));
}

async fn the_channel_view_shows_the_clients_screen(v: String) {
    client_with_channel(&v, "s-c", "s-ch").await;
    upload(&v, "s-1", "s-c", "s-ch", "cooking", "3").await;
    upload(&v, "s-2", "s-c", "s-ch", "baking", "4").await;
    let (status, body) = delete(format!("{v}/videoServices/s-2")).await;
    assert_eq!(status, 200, "{body}");
    get_until(
        format!("{v}/channelViews?clientId=s-c"),
        "s-c's screen settled",
        |view| {
            view["totalView"] == json!("3")
                && view["channels"]
                    == json!([{"channelId": "s-ch", "channelName": "s-ch", "totalView": "3", "videoCount": 1}])
                && view["videos"]
                    == json!([{"videoId": "s-1", "channelId": "s-ch", "title": "cooking", "viewCount": "3", "status": "ACTIVE"}])
        },
    )
    .await;
    // The videos are paged, the newest upload first, with the true count (the reviewer's F6).
    upload(&v, "s-3", "s-c", "s-ch", "frying", "0").await;
    let first = get_until(
        format!("{v}/channelViews?clientId=s-c&pageSize=1"),
        "s-c's newest upload on the first page",
        |view| {
            view["videos"][0]["videoId"] == "s-3"
                && view["videoCount"] == json!(2)
                && view["channelCount"] == json!(1)
                && view["nextPageToken"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
        },
    )
    .await;
    let token = first["nextPageToken"].as_str().unwrap_or_default();
    let (status, next) = get(format!(
        "{v}/channelViews?clientId=s-c&pageSize=1&pageToken={token}"
    ))
    .await;
    assert_eq!(
        (status, &next["videos"][0]["videoId"]),
        (200, &json!("s-1")),
        "{next}"
    );
    let (status, _) = get(format!("{v}/channelViews?clientId=s-nobody")).await;
    assert_eq!(status, 404);
    let (status, body) = get(format!("{v}/channelViews")).await;
    assert_eq!((status, field(&body)), (400, &json!("client_id")));
    let (status, body) = get(format!("{v}/notifications")).await;
    assert_eq!((status, field(&body)), (400, &json!("client_id")));
}

/// A view is not an edit (the reviewer's F7): views move the totals and the screen, but
/// raise no notification (so no webhook) and no policy re-check; a PATCH stays an edit.
async fn a_view_is_counted_but_not_notified(v: String) {
    client_with_channel(&v, "w-c", "w-ch").await;
    upload(&v, "w-1", "w-c", "w-ch", "walking", "0").await;
    for _ in 0..3 {
        let (status, body) = post(format!("{v}/videoServices/w-1:view"), json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    get_until(
        format!("{v}/channelSystems/w-ch"),
        "three views in the channel's total",
        |c| c["totalView"] == json!(3),
    )
    .await;
    get_until(
        format!("{v}/channelViews?clientId=w-c"),
        "three views on the client's screen",
        |view| view["totalView"] == json!("3") && view["videos"][0]["viewCount"] == json!("3"),
    )
    .await;
    // An edit after the views: once its notice is listed, the views' turn has passed.
    let (status, body) = patch(
        format!("{v}/videoServices/w-1"),
        json!({"viewCount": "100"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    notified(
        &v,
        "w-c",
        &[("VIDEO_UPLOADED", "w-1"), ("VIDEO_EDITED", "w-1")],
    )
    .await;
    let (_, body) = get(format!("{v}/notifications?clientId=w-c")).await;
    let kinds: Vec<&str> = body["notifications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.len(),
        2,
        "one per upload and edit, none per view: {body}"
    );
    get_until(
        format!("{v}/clientSystems/w-c"),
        "the edit in the client's total",
        |c| c["totalView"] == json!(100),
    )
    .await;
}

type Scenario = fn(String) -> BoxFuture<'static, ()>;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("a banned title is taken down and notified", |v| {
        Box::pin(a_banned_title_is_taken_down_and_notified(v))
    }),
    ("a deleted policy takes its video down", |v| {
        Box::pin(a_deleted_policy_takes_its_video_down(v))
    }),
    ("refunds are decided against the most lenient policy", |v| {
        Box::pin(refunds_are_decided_against_the_most_lenient_policy(v))
    }),
    ("policies are managed and bad requests named", |v| {
        Box::pin(policies_are_managed_and_bad_requests_named(v))
    }),
    ("a view is counted but not notified", |v| {
        Box::pin(a_view_is_counted_but_not_notified(v))
    }),
    ("the channel view shows the client's screen", |v| {
        Box::pin(the_channel_view_shows_the_clients_screen(v))
    }),
    ("comments only on videos that exist", |v| {
        Box::pin(crate::video_comment::comments_only_on_videos_that_exist(v))
    }),
    ("a gone video loses its comments", |v| {
        Box::pin(crate::video_comment::a_gone_video_loses_its_comments(v))
    }),
];

async fn scenarios(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let v = mesh.video();
    let runs: Vec<_> = SCENARIOS
        .iter()
        .map(|(name, scenario)| (*name, tokio::spawn(scenario(v.clone()))))
        .collect();
    let mut failed = Vec::new();
    for (name, run) in runs {
        if let Err(error) = run.await {
            eprintln!("scenario {name:?} failed: {error}");
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_supporting_contexts_on_sqlite() {
    scenarios(Sandbox::sqlite("video-policy")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_supporting_contexts_on_postgres() {
    scenarios(Sandbox::postgres("video-policy-pg")).await;
}

/// Overload: policy served alone with one call in flight sheds a flood of calls with
/// RESOURCE_EXHAUSTED and RetryInfo at once, answers the rest, and serves again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_policy_sheds_load_with_retry_info() {
    use tonic_types::StatusExt;
    let sandbox = Sandbox::sqlite("video-policy-shed");
    let policy = sandbox
        .serve_with(free_port(), "video.policy", &["--max-in-flight", "1"], &[])
        .await;
    let channel = policy.channel().await;
    let mut client = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
    for n in 0..20 {
        let request = pb::CreatePolicyRequest {
            policy_id: format!("f-{n}"),
            refund_policy: n,
            banned_words: (0..20).map(|w| format!("word{w}")).collect(),
            ..Default::default()
        };
        client.create_policy(request).await.unwrap();
    }
    let calls = (0..200).map(|n| {
        let mut client = pb::policy_service_client::PolicyServiceClient::new(channel.clone());
        async move {
            let started = std::time::Instant::now();
            let request = pb::ListPoliciesRequest {
                page_size: 100,
                page_token: String::new(),
            };
            let result = if n % 2 == 0 {
                client.list_policies(request).await.map(|_| ())
            } else {
                let create = pb::CreatePolicyRequest {
                    policy_id: format!("g-{n}"),
                    refund_policy: 1,
                    ..Default::default()
                };
                client.create_policy(create).await.map(|_| ())
            };
            (result, started.elapsed())
        }
    });
    let outcomes = futures::future::join_all(calls).await;
    let shed: Vec<_> = outcomes
        .iter()
        .filter_map(|(r, took)| r.as_ref().err().map(|s| (s, *took)))
        .collect();
    assert!(
        !shed.is_empty(),
        "a flood of 200 calls on one slot sheds some"
    );
    assert!(shed.len() < outcomes.len(), "and answers others");
    for (status, took) in shed {
        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
        assert!(
            status.get_details_retry_info().is_some(),
            "RetryInfo missing: {status:?}"
        );
        assert!(took < Duration::from_secs(2), "answered at once: {took:?}");
    }
    policy.wait_serving().await;
    let request = pb::GetPolicyRequest {
        policy_id: "f-3".into(),
    };
    let after = client.get_policy(request).await.unwrap().into_inner();
    assert_eq!(
        after.refund_policy, 3,
        "serves again once the flood is over"
    );
}
