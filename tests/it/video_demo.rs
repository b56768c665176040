//! The video platform seed's demo scenario ("시연 시나리오", seed 000) as written, against
//! video's REST port (host and port changed only), on SQLite and PostgreSQL. httpie sends
//! every value as a string, so the bodies here do too. Totals follow by events only, so they
//! are polled (never slept for).
use serde_json::{Value, json};

use crate::harness::Sandbox;
use crate::harness::rest::{delete, get, get_until, patch, post};

/// `http POST`: answers the body, asserting a 200.
async fn ok_post(url: String, body: Value) -> Value {
    let (status, answer) = post(url.clone(), body).await;
    assert_eq!(status, 200, "POST {url}: {answer}");
    answer
}

async fn ok_patch(url: String, body: Value) -> Value {
    let (status, answer) = patch(url.clone(), body).await;
    assert_eq!(status, 200, "PATCH {url}: {answer}");
    answer
}

async fn ok_delete(url: String) {
    let (status, answer) = delete(url.clone()).await;
    assert_eq!(status, 200, "DELETE {url}: {answer}");
}

async fn ok_get(url: String) -> Value {
    let (status, answer) = get(url.clone()).await;
    assert_eq!(status, 200, "GET {url}: {answer}");
    answer
}

fn ids(list: &Value, field: &str, key: &str) -> Vec<String> {
    list[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i[key].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Channel 1 and client 1 reach these totals.
async fn totals(v: &str, total_view: i64, video_count: i64) {
    get_until(
        format!("{v}/channelSystems/1"),
        &format!("channel 1 at {total_view} views over {video_count} videos"),
        |c| c["totalView"] == json!(total_view) && c["videoCount"] == json!(video_count),
    )
    .await;
    get_until(
        format!("{v}/clientSystems/1"),
        &format!("client 1 at {total_view} views"),
        |c| c["totalView"] == json!(total_view),
    )
    .await;
}

async fn demo(sandbox: Sandbox) {
    let mesh = sandbox.up().await;
    let v = mesh.video();

    // ### 고객 생성
    let client = ok_post(
        format!("{v}/clientSystems"),
        json!({"clientId": "1", "totalView": "0"}),
    )
    .await;
    assert_eq!(client, json!({"clientId": "1", "totalView": 0}));

    // ### 고객이 채널을 생성한다
    for (id, name) in [("1", "channel1"), ("2", "channel2")] {
        let channel = ok_post(
            format!("{v}/channelSystems"),
            json!({"channelId": id, "channelName": name, "clientId": "1", "totalView": "0"}),
        )
        .await;
        assert_eq!(
            channel,
            json!({"channelId": id, "channelName": name, "clientId": "1", "totalView": 0, "videoCount": 0})
        );
    }
    let channels = ok_get(format!("{v}/channelSystems")).await;
    assert_eq!(ids(&channels, "channels", "channelId"), ["1", "2"]);

    // ### 고객이 채널을 수정/삭제 할 수 있다
    let renamed = ok_patch(
        format!("{v}/channelSystems/2"),
        json!({"channelName": "channel2-1"}),
    )
    .await;
    assert_eq!(renamed["channelName"], "channel2-1");
    let channels = ok_get(format!("{v}/channelSystems")).await;
    assert_eq!(channels["channels"][1]["channelName"], "channel2-1");
    ok_delete(format!("{v}/channelSystems/2")).await;
    let channels = ok_get(format!("{v}/channelSystems")).await;
    assert_eq!(ids(&channels, "channels", "channelId"), ["1"]);

    // ### 고객이 생성된 채널에 동영상을 업로드한다
    let videos = ok_get(format!("{v}/videoServices")).await;
    assert!(ids(&videos, "videos", "videoId").is_empty(), "{videos}");
    for id in ["1", "2"] {
        let video = ok_post(
            format!("{v}/videoServices"),
            json!({"videoId": id, "clientId": "1", "channelId": "1", "viewCount": "0"}),
        )
        .await;
        assert_eq!(
            (&video["videoId"], &video["channelId"], &video["status"]),
            (&json!(id), &json!("1"), &json!("ACTIVE")),
            "{video}"
        );
    }
    let videos = ok_get(format!("{v}/videoServices")).await;
    assert_eq!(ids(&videos, "videos", "videoId"), ["1", "2"]);

    // ### 고객이 업로드한 동영상을 수정/삭제 할 수 있다
    let edited = ok_patch(format!("{v}/videoServices/2"), json!({"viewCount": "3"})).await;
    assert_eq!(edited["viewCount"], 3);
    ok_get(format!("{v}/videoServices")).await;
    totals(&v, 3, 2).await;
    ok_delete(format!("{v}/videoServices/2")).await;
    let videos = ok_get(format!("{v}/videoServices")).await;
    assert_eq!(ids(&videos, "videos", "videoId"), ["1"]);
    totals(&v, 0, 1).await;

    // ### 정책 관리 시스템으로 정책을 등록한다
    ok_post(
        format!("{v}/policyManagements"),
        json!({"policyId": "1", "refundPolicy": "10", "deleteVideoId": "1"}),
    )
    .await;

    // ### 정책 관리 시스템으로 관리자가 정책을 수정할 수 있다
    ok_patch(
        format!("{v}/policyManagements/1"),
        json!({"policyId": "1", "refundPolicy": "5"}),
    )
    .await;

    // ### 정책 관리 시스템이 동영상 등록/수정 시 정책 확인 요청을 받게되며 정책을 확인한다
    ok_post(
        format!("{v}/videoServices"),
        json!({"videoId": "3", "clientId": "1", "channelId": "1", "viewCount": "0"}),
    )
    .await;
    totals(&v, 0, 2).await;

    // ### 고객이 동영상에 대하여 정책 관리 시스템에 환급 신청한다
    ok_get(format!("{v}/clientSystems")).await;
    let edited = ok_patch(format!("{v}/videoServices/1"), json!({"viewCount": "100"})).await;
    assert_eq!(edited["viewCount"], 100);
    totals(&v, 100, 2).await;

    // ### 정책 관리 시스템이 정책 확인하여 정책 위반 시 동영상 삭제를 요청한다
    ok_delete(format!("{v}/policyManagements/1")).await;
    get_until(
        format!("{v}/videoServices/1"),
        "video 1 taken down by the deleted policy",
        |video| video["status"] == "REMOVED_BY_POLICY",
    )
    .await;
    // Out of every total: video 3 alone is left counting.
    totals(&v, 0, 1).await;
    let three = ok_get(format!("{v}/videoServices/3")).await;
    assert_eq!(three["status"], "ACTIVE", "no banned word: stays up");

    // ### gateway 확인
    let videos = ok_get(format!("{v}/videoServices")).await;
    assert_eq!(ids(&videos, "videos", "videoId"), ["1", "3"]);
    ok_get(format!("{v}/channelSystems")).await;
    ok_get(format!("{v}/policyManagements")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_demo_scenario_on_sqlite() {
    demo(Sandbox::sqlite("video-demo")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_demo_scenario_on_postgres() {
    demo(Sandbox::postgres("video-demo-pg")).await;
}
