//! Comment in process: a real SQLite store in a temporary folder, video served in memory (a
//! small fake VideoService), video events delivered as the consumer would (replayed,
//! reordered, stale), the gRPC adapter called directly.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Delivered, Handler};
use mediamesh_proto::video::v1 as pb;
use pb::comment_service_server::CommentService;
use pb::video_service_server::VideoServiceServer;
use tonic::service::Routes;
use tonic::{Code, Request, Status};

use crate::grpc::CommentApi;

/// Video as comment sees it: `GetVideo` answers for the videos it holds (id -> status), and
/// counts the asks.
#[derive(Clone, Default)]
struct FakeVideo {
    videos: Arc<Mutex<BTreeMap<String, String>>>,
    asked: Arc<AtomicUsize>,
}

impl FakeVideo {
    fn with(videos: &[(&str, &str)]) -> FakeVideo {
        let fake = FakeVideo::default();
        fake.videos
            .lock()
            .unwrap()
            .extend(videos.iter().map(|(v, s)| (v.to_string(), s.to_string())));
        fake
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

impl FakeVideo {
    fn routes(&self) -> Routes {
        let fake = self.clone();
        let get = move |r: pb::GetVideoRequest| {
            fake.asked.fetch_add(1, Ordering::SeqCst);
            let status = fake.videos.lock().unwrap().get(&r.video_id).cloned();
            async move {
                let Some(status) = status else {
                    let id = r.video_id;
                    return Err(Status::not_found(format!("video {id:?} not found")));
                };
                Ok(pb::Video {
                    video_id: r.video_id,
                    status,
                    ..Default::default()
                })
            }
        };
        Fake::<VideoServiceServer<()>>::new()
            .unary("GetVideo", get)
            .routes()
    }
}

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(500),
        retries: 0,
        ..CallPolicy::default()
    }
}

struct Ctx {
    test: TestStore,
    api: CommentApi,
    video: FakeVideo,
    policies: Arc<dyn Handler>,
}

impl Ctx {
    async fn new(videos: &[(&str, &str)]) -> Ctx {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let video = FakeVideo::with(videos);
        let routes = video.routes();
        let peer = peer_in_memory("video.video", routes, policy()).await;
        Ctx {
            api: CommentApi::new(test.store.clone(), peer),
            test,
            video,
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, events: &[&Delivered]) {
        for event in events {
            self.test.deliver(&self.policies, event).await.unwrap();
        }
    }

    async fn create(&self, comment: &str, video: &str) -> Result<pb::Comment, Status> {
        let request = Request::new(pb::CreateCommentRequest {
            comment_id: comment.into(),
            video_id: video.into(),
            client_id: "c1".into(),
            contents: "work hard".into(),
        });
        self.api
            .create_comment(request)
            .await
            .map(|r| r.into_inner())
    }

    async fn listed(&self, video: &str) -> Vec<String> {
        let request = Request::new(pb::ListCommentsRequest {
            video_id: video.into(),
            ..Default::default()
        });
        let list = self.api.list_comments(request).await.unwrap().into_inner();
        list.comments.into_iter().map(|c| c.comment_id).collect()
    }
}

fn uploaded(video: &str, version: i64) -> Delivered {
    let event = pb::VideoUploaded {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        title: "cooking".into(),
        view_count: 0,
        upload_time: String::new(),
    };
    delivered("video.video", &event, video, version)
}

fn deleted(video: &str, version: i64) -> Delivered {
    let event = pb::VideoDeleted {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
    };
    delivered("video.video", &event, video, version)
}

fn removed(video: &str, version: i64) -> Delivered {
    let event = pb::VideoRemovedByPolicy {
        video_id: video.into(),
        client_id: "c1".into(),
        channel_id: "ch1".into(),
        reason: "banned word".into(),
    };
    delivered("video.video", &event, video, version)
}

#[tokio::test]
async fn a_comment_on_a_replicated_video_needs_no_call_and_is_edited_and_deleted() {
    let c = Ctx::new(&[]).await;
    let upload = uploaded("v1", 1);
    c.deliver(&[&upload, &upload]).await;
    let comment = c.create("1", "v1").await.unwrap();
    assert_eq!(
        (comment.video_id.as_str(), comment.contents.as_str()),
        ("v1", "work hard")
    );
    assert_eq!(c.video.asked(), 0, "the replica answered");
    let retry = c.create("1", "v1").await.unwrap();
    assert_eq!(
        retry, comment,
        "AIP-155: a retry is answered the comment as it is"
    );
    let patch = Request::new(pb::UpdateCommentRequest {
        comment_id: "1".into(),
        contents: "hello world".into(),
    });
    let edited = c.api.update_comment(patch).await.unwrap().into_inner();
    assert_eq!(edited.contents, "hello world");
    let get = Request::new(pb::GetCommentRequest {
        comment_id: "1".into(),
    });
    assert_eq!(
        c.api.get_comment(get).await.unwrap().into_inner().contents,
        "hello world"
    );
    let delete = || {
        Request::new(pb::DeleteCommentRequest {
            comment_id: "1".into(),
        })
    };
    c.api.delete_comment(delete()).await.unwrap();
    assert_eq!(
        c.api.delete_comment(delete()).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        c.create("1", "v1").await.unwrap_err().code(),
        Code::AlreadyExists
    );
    assert!(c.listed("v1").await.is_empty());
}

#[tokio::test]
async fn a_replica_miss_asks_video_once_and_an_unknown_video_is_404() {
    let c = Ctx::new(&[("v1", "ACTIVE"), ("v9", "REMOVED_BY_POLICY")]).await;
    c.create("1", "v1").await.unwrap();
    assert_eq!(c.video.asked(), 1, "not heard of yet: video asked");
    c.create("2", "v1").await.unwrap();
    assert_eq!(c.video.asked(), 1, "the replica learned the answer");
    for unknown in ["nope", "v9"] {
        let refused = c.create("3", unknown).await.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{unknown}");
        assert!(refused.message().contains("video"), "{}", refused.message());
    }
    assert_eq!(c.listed("v1").await, ["1", "2"]);
}

#[tokio::test]
async fn a_deleted_or_taken_down_video_loses_its_comments_whatever_the_order() {
    let c = Ctx::new(&[]).await;
    c.deliver(&[&uploaded("v1", 1), &uploaded("v2", 1)]).await;
    c.create("1", "v1").await.unwrap();
    c.create("2", "v2").await.unwrap();
    c.deliver(&[&deleted("v1", 3), &removed("v2", 2), &removed("v2", 2)])
        .await;
    assert!(c.listed("v1").await.is_empty());
    assert!(c.listed("v2").await.is_empty());
    assert_eq!(
        c.create("3", "v1").await.unwrap_err().code(),
        Code::NotFound
    );
    // Removed before its upload is delivered: the late upload cannot revive it.
    c.deliver(&[&removed("v3", 2), &uploaded("v3", 1)]).await;
    assert_eq!(
        c.create("4", "v3").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(c.video.asked(), 0, "the replica answered every time");
    let get = Request::new(pb::GetCommentRequest {
        comment_id: "1".into(),
    });
    assert_eq!(
        c.api.get_comment(get).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn video_down_is_unavailable_never_a_false_404() {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = CommentApi::new(test.store.clone(), peer_down("video.video", policy()));
    let request = Request::new(pb::CreateCommentRequest {
        comment_id: String::new(),
        video_id: "v1".into(),
        client_id: "c1".into(),
        contents: "hi".into(),
    });
    let refused = api.create_comment(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let c = Ctx::new(&[("v1", "ACTIVE")]).await;
    for (comment, video, client, contents, field) in [
        ("a b", "v1", "c1", "hi", "comment_id"),
        ("1", "", "c1", "hi", "video_id"),
        ("1", "v1", "", "hi", "client_id"),
        ("1", "v1", "c1", "", "contents"),
    ] {
        let request = Request::new(pb::CreateCommentRequest {
            comment_id: comment.into(),
            video_id: video.into(),
            client_id: client.into(),
            contents: contents.into(),
        });
        let status = c.api.create_comment(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let list = Request::new(pb::ListCommentsRequest::default());
    let status = c.api.list_comments(list).await.unwrap_err();
    assert!(status.message().starts_with("video_id"));
    let long = Request::new(pb::UpdateCommentRequest {
        comment_id: "1".into(),
        contents: "x".repeat(mediamesh_mesh::input::TEXT_MAX + 1),
    });
    let status = c.api.update_comment(long).await.unwrap_err();
    assert!(status.message().starts_with("contents"));
    assert_eq!(c.video.asked(), 0, "bad input never reaches video");
}
