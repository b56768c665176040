//! The video platform's rules for client, channel and video over REST through Envoy, on
//! SQLite and PostgreSQL, as named scenarios side by side on one mesh per backend: totals
//! computed by events (views, moves, deletions, a channel deleted with its videos), the
//! rejects (400 naming the field, 404 naming the id, never a 5xx), paging, refund requests
//! recorded and decided; and client down never stopping uploads (its totals catch up when it returns).
use std::time::Duration;

use futures::future::BoxFuture;
use mediamesh_proto::video::v1 as pb;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::harness::rest::{WAIT, delete, get, get_until, patch, post};
use crate::harness::{Sandbox, eventually, free_port};

fn field(body: &Value) -> &Value {
    &body["details"][0]["fieldViolations"][0]["field"]
}

async fn created(url: String, body: Value) -> Value {
    let (status, answer) = post(url.clone(), body).await;
    assert_eq!(status, 200, "POST {url}: {answer}");
    answer
}

/// A client `c` with channels `chans` (ids as given).
async fn client_with_channels(v: &str, c: &str, chans: &[&str]) {
    created(format!("{v}/clientSystems"), json!({"clientId": c})).await;
    for ch in chans {
        created(
            format!("{v}/channelSystems"),
            json!({"channelId": ch, "channelName": ch, "clientId": c}),
        )
        .await;
    }
}

async fn upload(v: &str, video: &str, c: &str, ch: &str, views: &str) -> Value {
    created(
        format!("{v}/videoServices"),
        json!({"videoId": video, "clientId": c, "channelId": ch, "viewCount": views}),
    )
    .await
}

async fn channel_at(v: &str, ch: &str, total_view: i64, video_count: i64) {
    get_until(
        format!("{v}/channelSystems/{ch}"),
        &format!("channel {ch} at {total_view} views over {video_count} videos"),
        |c| c["totalView"] == json!(total_view) && c["videoCount"] == json!(video_count),
    )
    .await;
}

async fn client_at(v: &str, c: &str, total_view: i64) {
    get_until(
        format!("{v}/clientSystems/{c}"),
        &format!("client {c} at {total_view} views"),
        |client| client["totalView"] == json!(total_view),
    )
    .await;
}

type Scenario = fn(String) -> BoxFuture<'static, ()>;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("totals follow views, edits and moves", |v| {
        Box::pin(totals_follow_views_edits_and_moves(v))
    }),
    ("a deleted channel takes its videos", |v| {
        Box::pin(a_deleted_channel_takes_its_videos(v))
    }),
    ("a deleted client takes its channels and videos", |v| {
        Box::pin(a_deleted_client_takes_its_channels_and_videos(v))
    }),
    ("a retried create answers the resource", |v| {
        Box::pin(a_retried_create_answers_the_resource(v))
    }),
    ("bad requests are refused by name", |v| {
        Box::pin(bad_requests_are_refused_by_name(v))
    }),
    ("lists are paged", |v| Box::pin(lists_are_paged(v))),
    ("a refund request is recorded and decided", |v| {
        Box::pin(a_refund_request_is_recorded(v))
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
        if run.await.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}

async fn totals_follow_views_edits_and_moves(v: String) {
    client_with_channels(&v, "t-c", &["t-a", "t-b"]).await;
    upload(&v, "t-1", "t-c", "t-a", "5").await;
    upload(&v, "t-2", "", "t-a", "0").await;
    let (status, viewed) = post(format!("{v}/videoServices/t-2:view"), json!({})).await;
    assert_eq!((status, &viewed["viewCount"]), (200, &json!(1)), "{viewed}");
    channel_at(&v, "t-a", 6, 2).await;
    client_at(&v, "t-c", 6).await;
    // An absolute count, then a move into the client's other channel.
    let (status, edited) = patch(
        format!("{v}/videoServices/t-1"),
        json!({"viewCount": "10", "channelId": "t-b", "title": "moved"}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (&edited["viewCount"], &edited["channelId"]),
        (&json!(10), &json!("t-b"))
    );
    channel_at(&v, "t-a", 1, 1).await;
    channel_at(&v, "t-b", 10, 1).await;
    client_at(&v, "t-c", 11).await;
    assert_eq!(delete(format!("{v}/videoServices/t-1")).await.0, 200);
    channel_at(&v, "t-b", 0, 0).await;
    client_at(&v, "t-c", 1).await;
    assert_eq!(get(format!("{v}/videoServices/t-1")).await.0, 404);
}

async fn a_deleted_channel_takes_its_videos(v: String) {
    client_with_channels(&v, "d-c", &["d-a", "d-b"]).await;
    upload(&v, "d-1", "d-c", "d-a", "2").await;
    upload(&v, "d-2", "d-c", "d-a", "3").await;
    upload(&v, "d-3", "d-c", "d-b", "4").await;
    client_at(&v, "d-c", 9).await;
    assert_eq!(delete(format!("{v}/channelSystems/d-a")).await.0, 200);
    for video in ["d-1", "d-2"] {
        eventually(
            &format!("video {video} deleted with its channel"),
            WAIT,
            || {
                let url = format!("{v}/videoServices/{video}");
                async move { (get(url).await.0 == 404).then_some(()) }
            },
        )
        .await;
    }
    client_at(&v, "d-c", 4).await;
    let (status, left) = get(format!("{v}/videoServices?channelId=d-b")).await;
    assert_eq!(
        (status, left["videos"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    // The channel is gone: no uploads into it, its id retired.
    let (status, body) = post(
        format!("{v}/videoServices"),
        json!({"videoId": "d-4", "channelId": "d-a"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(
        format!("{v}/channelSystems"),
        json!({"channelId": "d-a", "channelName": "again", "clientId": "d-c"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

/// A deleted client takes its channels and so their videos (the reviewer's F5); channels are
/// opened only for live clients, a 404 naming `client_id` otherwise.
async fn a_deleted_client_takes_its_channels_and_videos(v: String) {
    client_with_channels(&v, "x-c", &["x-a", "x-b"]).await;
    client_with_channels(&v, "x-k", &["x-k1"]).await;
    upload(&v, "x-1", "x-c", "x-a", "2").await;
    upload(&v, "x-2", "x-c", "x-b", "3").await;
    upload(&v, "x-3", "x-k", "x-k1", "4").await;
    assert_eq!(delete(format!("{v}/clientSystems/x-c")).await.0, 200);
    for gone in [
        "channelSystems/x-a",
        "channelSystems/x-b",
        "videoServices/x-1",
        "videoServices/x-2",
    ] {
        eventually(&format!("{gone} deleted with its client"), WAIT, || {
            let url = format!("{v}/{gone}");
            async move { (get(url).await.0 == 404).then_some(()) }
        })
        .await;
    }
    assert_eq!(get(format!("{v}/videoServices/x-3")).await.0, 200);
    channel_at(&v, "x-k1", 4, 1).await;
    for client in ["x-c", "x-nobody"] {
        let (status, body) = post(
            format!("{v}/channelSystems"),
            json!({"channelId": format!("x-new-{client}"), "channelName": "n", "clientId": client}),
        )
        .await;
        assert_eq!(status, 404, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("client_id"), "{body}");
    }
}

/// A retried create under the same client-chosen id answers the resource as it is now
/// (AIP-155, the reviewer's F3); another body under that id stays 409 naming the id.
async fn a_retried_create_answers_the_resource(v: String) {
    created(format!("{v}/clientSystems"), json!({"clientId": "i-k"})).await;
    let creates = [
        (
            "clientSystems",
            "clientId",
            json!({"clientId": "i-c"}),
            json!({"clientId": "i-c", "totalView": "5"}),
        ),
        (
            "channelSystems",
            "channelId",
            json!({"channelId": "i-ch", "channelName": "n", "clientId": "i-c"}),
            json!({"channelId": "i-ch", "channelName": "other", "clientId": "i-c"}),
        ),
        (
            "videoServices",
            "videoId",
            json!({"videoId": "i-1", "channelId": "i-ch", "title": "t", "viewCount": "1"}),
            json!({"videoId": "i-1", "channelId": "i-ch", "title": "other", "viewCount": "1"}),
        ),
        (
            "refundRequests",
            "refundRequestId",
            json!({"refundRequestId": "i-r", "clientId": "i-c"}),
            json!({"refundRequestId": "i-r", "clientId": "i-k"}),
        ),
    ];
    for (path, key, body, other) in creates {
        let id = body[key].clone();
        let first = created(format!("{v}/{path}"), body.clone()).await;
        let again = created(format!("{v}/{path}"), body).await;
        assert_eq!((&first[key], &again[key]), (&id, &id), "{path}: {again}");
        let (status, refused) = post(format!("{v}/{path}"), other).await;
        if path == "clientSystems" {
            // A client's body holds nothing else but a computed total, refused as such.
            assert_eq!(status, 400, "{path}: {refused}");
            continue;
        }
        assert_eq!(status, 409, "{path}: another body: {refused}");
        let message = refused["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(id.as_str().unwrap_or_default()),
            "{refused}"
        );
    }
}

async fn bad_requests_are_refused_by_name(v: String) {
    client_with_channels(&v, "b-c", &["b-a"]).await;
    client_with_channels(&v, "b-other", &[]).await;
    let refused = [
        (
            "/clientSystems",
            json!({"clientId": "b-x", "totalView": "5"}),
            "total_view",
        ),
        (
            "/channelSystems",
            json!({"channelId": "b-x", "channelName": "x", "clientId": "b-c", "totalView": "7"}),
            "total_view",
        ),
        (
            "/channelSystems",
            json!({"channelId": "b-x", "channelName": "x", "clientId": "b-c", "videoCount": "1"}),
            "video_count",
        ),
        (
            "/channelSystems",
            json!({"channelId": "b-x", "clientId": "b-c"}),
            "channel_name",
        ),
        (
            "/channelSystems",
            json!({"channelId": "b-x", "channelName": "x"}),
            "client_id",
        ),
        (
            "/videoServices",
            json!({"videoId": "b-1", "channelId": "b-a", "viewCount": "-1"}),
            "view_count",
        ),
        (
            "/videoServices",
            json!({"videoId": "b-1", "channelId": "b-a", "clientId": "b-other"}),
            "client_id",
        ),
        (
            "/videoServices",
            json!({"videoId": "b 1", "channelId": "b-a"}),
            "video_id",
        ),
        ("/videoServices", json!({"videoId": "b-1"}), "channel_id"),
    ];
    for (path, body, named) in refused {
        let (status, answer) = post(format!("{v}{path}"), body.clone()).await;
        assert_eq!(
            (status, field(&answer)),
            (400, &json!(named)),
            "{path} {body}: {answer}"
        );
    }
    let (status, answer) =
        patch(format!("{v}/channelSystems/b-a"), json!({"totalView": "0"})).await;
    assert_eq!(
        (status, field(&answer)),
        (400, &json!("total_view")),
        "{answer}"
    );
    // An unknown channel is a 404 naming channel_id; unknown ids are 404s everywhere.
    let (status, answer) = post(
        format!("{v}/videoServices"),
        json!({"videoId": "b-2", "clientId": "b-c", "channelId": "b-nope", "viewCount": "0"}),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("channel_id"),
        "{answer}"
    );
    for url in [
        "/videoServices/b-nope",
        "/channelSystems/b-nope",
        "/clientSystems/b-nope",
        "/refundRequests/b-nope",
    ] {
        assert_eq!(get(format!("{v}{url}")).await.0, 404, "{url}");
    }
    assert_eq!(delete(format!("{v}/videoServices/b-nope")).await.0, 404);
    assert_eq!(
        patch(format!("{v}/videoServices/b-nope"), json!({"title": "x"}))
            .await
            .0,
        404
    );
    assert_eq!(
        post(format!("{v}/videoServices/b-nope:view"), json!({}))
            .await
            .0,
        404
    );
    let (status, answer) = post(format!("{v}/refundRequests"), json!({"clientId": "b-nope"})).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(get(format!("{v}/videoServices?pageSize=-1")).await.0, 400);
    // A taken id under another body is a conflict, not a silent overwrite (the same body
    // again is answered the resource: `a_retried_create_answers_the_resource`).
    let (status, body) = post(
        format!("{v}/channelSystems"),
        json!({"channelId": "b-a", "channelName": "another", "clientId": "b-c"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

async fn lists_are_paged(v: String) {
    client_with_channels(&v, "p-c", &["p-a"]).await;
    for n in 0..3 {
        upload(&v, &format!("p-{n}"), "p-c", "p-a", "0").await;
    }
    let (_, first) = get(format!("{v}/videoServices?channelId=p-a&pageSize=2")).await;
    assert_eq!(first["videos"].as_array().map(Vec::len), Some(2), "{first}");
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) = get(format!(
        "{v}/videoServices?channelId=p-a&pageSize=2&pageToken={token}"
    ))
    .await;
    assert_eq!(
        second["videos"].as_array().map(Vec::len),
        Some(1),
        "{second}"
    );
    assert!(
        second["nextPageToken"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    let (_, channels) = get(format!("{v}/channelSystems?clientId=p-c")).await;
    assert_eq!(channels["channels"].as_array().map(Vec::len), Some(1));
}

async fn a_refund_request_is_recorded(v: String) {
    client_with_channels(&v, "r-c", &["r-a"]).await;
    upload(&v, "r-1", "r-c", "r-a", "7").await;
    client_at(&v, "r-c", 7).await;
    let asked = created(
        format!("{v}/refundRequests"),
        json!({"refundRequestId": "r-r1", "clientId": "r-c"}),
    )
    .await;
    assert_eq!(
        (&asked["status"], &asked["totalView"]),
        (&json!("REQUESTED"), &json!(7)),
        "{asked}"
    );
    let (status, listed) = get(format!("{v}/refundRequests?clientId=r-c")).await;
    assert_eq!(status, 200);
    assert_eq!(listed["refundRequests"][0]["refundRequestId"], "r-r1");
    // Policy decides it (no policy registered on this mesh: rejected); client applies the
    // decision to the request it recorded, correlated by its id.
    let decided = get_until(
        format!("{v}/refundRequests/r-r1"),
        "refund request r-r1 decided",
        |r| r["status"] != "REQUESTED",
    )
    .await;
    assert_eq!(
        (&decided["status"], &decided["totalView"]),
        (&json!("REJECTED"), &json!(7)),
        "{decided}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_rules_on_sqlite() {
    scenarios(Sandbox::sqlite("video-rules")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_rules_on_postgres() {
    scenarios(Sandbox::postgres("video-rules-pg")).await;
}

async fn client_total(url: &str, id: &str) -> Option<i32> {
    let channel = Channel::from_shared(url.to_owned())
        .ok()?
        .connect()
        .await
        .ok()?;
    let request = pb::GetClientRequest {
        client_id: id.into(),
    };
    let client = pb::client_service_client::ClientServiceClient::new(channel)
        .get_client(request)
        .await
        .ok()?;
    Some(client.into_inner().total_view)
}

/// `client` down never stops uploads: video and channel run without it, and its totals
/// catch up from the events it missed once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_uploads_go_on_while_client_is_down() {
    let sandbox = Sandbox::sqlite("video-client-down");
    let client_port = free_port();
    let mut client = sandbox
        .serve_with(client_port, "video.client", &[], &[])
        .await;
    let client_url = format!("http://127.0.0.1:{client_port}");
    // Channel asks client about a client it has not heard of yet (opening channel 1 below).
    let peer = format!("video.client={client_url}");
    let core = sandbox
        .serve_with(
            free_port(),
            "video.channel,video.video",
            &["--peer", &peer],
            &[],
        )
        .await;
    let channel = core.channel().await;
    pb::client_service_client::ClientServiceClient::new(
        Channel::from_shared(client_url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    )
    .create_client(pb::CreateClientRequest {
        client_id: "1".into(),
        total_view: Some(0),
    })
    .await
    .unwrap();
    pb::channel_service_client::ChannelServiceClient::new(channel.clone())
        .create_channel(pb::CreateChannelRequest {
            channel_id: "1".into(),
            channel_name: "channel1".into(),
            client_id: "1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut videos = pb::video_service_client::VideoServiceClient::new(channel);
    let upload = |id: &str, views: i32| pb::CreateVideoRequest {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        view_count: Some(views),
        ..Default::default()
    };
    videos.create_video(upload("1", 2)).await.unwrap();
    eventually("client 1 at 2 views", WAIT, || async {
        (client_total(&client_url, "1").await == Some(2)).then_some(())
    })
    .await;

    client.proc.terminate(Duration::from_secs(10));
    for (id, views) in [("2", 3), ("3", 4)] {
        let uploaded = videos.create_video(upload(id, views)).await;
        assert!(uploaded.is_ok(), "upload with client down: {uploaded:?}");
    }
    assert_eq!(client_total(&client_url, "1").await, None, "client is down");

    let _client = sandbox
        .serve_with(client_port, "video.client", &[], &[])
        .await;
    eventually("client 1 caught up at 9 views", WAIT, || async {
        (client_total(&client_url, "1").await == Some(9)).then_some(())
    })
    .await;
}
