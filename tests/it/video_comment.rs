//! Comment over REST, run by `video_policy.rs`'s scenarios on one mesh per backend: only
//! videos that exist take comments (a video uploaded a moment ago is asked of video, never a
//! false 404), and a deleted or taken-down video loses its comments.
use serde_json::{Value, json};

use crate::harness::rest::{delete, get, get_until, patch, post};
use crate::video_policy::{client_with_channel, created, field, status_of, upload};

fn comment_ids(list: &Value) -> Vec<String> {
    list["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["commentId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn comments_of(v: &str, video: &str, want: &[&str]) {
    get_until(
        format!("{v}/commentServices?videoId={video}"),
        &format!("comments of {video}: {want:?}"),
        |list| comment_ids(list) == want,
    )
    .await;
}

pub(crate) async fn comments_only_on_videos_that_exist(v: String) {
    let (status, body) = post(
        format!("{v}/commentServices"),
        json!({"commentId": "k-0", "videoId": "k-none", "clientId": "k-c", "contents": "hi"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    client_with_channel(&v, "k-c", "k-ch").await;
    upload(&v, "k-1", "k-c", "k-ch", "cooking", "1").await;
    // At once: the replica may not have heard of k-1 yet; video is asked.
    for (id, text) in [("k-1", "work hard"), ("k-2", "work hard2")] {
        created(
            format!("{v}/commentServices"),
            json!({"commentId": id, "videoId": "k-1", "clientId": "k-c", "contents": text}),
        )
        .await;
    }
    let (status, edited) = patch(
        format!("{v}/commentServices/k-1"),
        json!({"contents": "hello world"}),
    )
    .await;
    assert_eq!((status, &edited["contents"]), (200, &json!("hello world")));
    let (status, got) = get(format!("{v}/commentServices/k-1")).await;
    assert_eq!((status, &got["videoId"]), (200, &json!("k-1")));
    let (status, _) = delete(format!("{v}/commentServices/k-2")).await;
    assert_eq!(status, 200);
    comments_of(&v, "k-1", &["k-1"]).await;
    let (status, _) = get(format!("{v}/commentServices/k-2")).await;
    assert_eq!(status, 404);
    let (status, body) = post(
        format!("{v}/commentServices"),
        json!({"commentId": "k-1", "videoId": "k-1", "clientId": "k-c", "contents": "again"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    for (body, name) in [
        (json!({"videoId": "k-1", "clientId": "k-c"}), "contents"),
        (json!({"videoId": "k-1", "contents": "x"}), "client_id"),
        (json!({"clientId": "k-c", "contents": "x"}), "video_id"),
    ] {
        let (status, answer) = post(format!("{v}/commentServices"), body).await;
        assert_eq!((status, field(&answer)), (400, &json!(name)), "{answer}");
    }
    let (status, body) = get(format!("{v}/commentServices")).await;
    assert_eq!((status, field(&body)), (400, &json!("video_id")));
}

pub(crate) async fn a_gone_video_loses_its_comments(v: String) {
    client_with_channel(&v, "g-c", "g-ch").await;
    upload(&v, "g-1", "g-c", "g-ch", "cooking", "1").await;
    upload(&v, "g-2", "g-c", "g-ch", "baking", "1").await;
    for (id, video) in [("g-k1", "g-1"), ("g-k2", "g-2")] {
        created(
            format!("{v}/commentServices"),
            json!({"commentId": id, "videoId": video, "clientId": "g-c", "contents": "nice"}),
        )
        .await;
    }
    let (status, _) = delete(format!("{v}/videoServices/g-1")).await;
    assert_eq!(status, 200);
    comments_of(&v, "g-1", &[]).await;
    // g-2 taken down by a deleted policy that names it.
    created(
        format!("{v}/policyManagements"),
        json!({"policyId": "g-pol", "refundPolicy": "100", "deleteVideoId": "g-2"}),
    )
    .await;
    let (status, _) = delete(format!("{v}/policyManagements/g-pol")).await;
    assert_eq!(status, 200);
    status_of(&v, "g-2", "REMOVED_BY_POLICY").await;
    comments_of(&v, "g-2", &[]).await;
    let (status, _) = get(format!("{v}/commentServices/g-k2")).await;
    assert_eq!(status, 404);
    let (status, body) = post(
        format!("{v}/commentServices"),
        json!({"commentId": "g-k3", "videoId": "g-2", "clientId": "g-c", "contents": "late"}),
    )
    .await;
    assert_eq!(status, 404, "a taken-down video takes no comments: {body}");
}
