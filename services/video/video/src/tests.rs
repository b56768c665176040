//! Video's rules in process: a real SQLite store in a temporary folder, channel served in
//! memory (a small fake ChannelService) or down, channel and policy events delivered as the
//! consumer would (replayed, reordered), the gRPC adapter called directly.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Delivered, Handler, sql};
use mediamesh_proto::video::v1 as pb;
use pb::channel_service_server::ChannelServiceServer;
use pb::video_service_server::VideoService;
use tonic::service::Routes;
use tonic::{Code, Request, Response, Status};

use crate::grpc::VideoApi;

/// Channel as video sees it: `GetChannel` answers for the channels it holds (id -> owner),
/// and counts the asks.
#[derive(Clone, Default)]
struct FakeChannel {
    channels: Arc<Mutex<BTreeMap<String, String>>>,
    asked: Arc<AtomicUsize>,
}

impl FakeChannel {
    fn routes(&self) -> Routes {
        let fake = self.clone();
        let get = move |r: pb::GetChannelRequest| {
            fake.asked.fetch_add(1, Ordering::SeqCst);
            let owner = fake.channels.lock().unwrap().get(&r.channel_id).cloned();
            async move {
                let Some(owner) = owner else {
                    let id = r.channel_id;
                    return Err(Status::not_found(format!("channel {id:?} not found")));
                };
                Ok(pb::Channel {
                    channel_id: r.channel_id,
                    client_id: owner,
                    ..Default::default()
                })
            }
        };
        Fake::<ChannelServiceServer<()>>::new()
            .unary("GetChannel", get)
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

struct Video {
    test: TestStore,
    api: VideoApi,
    channel: FakeChannel,
    policies: Arc<dyn Handler>,
}

fn created(channel: &str, owner: &str, version: i64) -> Delivered {
    let event = pb::ChannelCreated {
        channel_id: channel.into(),
        channel_name: channel.into(),
        client_id: owner.into(),
    };
    delivered("video.channel", &event, channel, version)
}

fn channel_deleted(channel: &str, version: i64) -> Delivered {
    let event = pb::ChannelDeleted {
        channel_id: channel.into(),
        client_id: "1".into(),
    };
    delivered("video.channel", &event, channel, version)
}

fn upload(video: &str, channel: &str) -> Request<pb::CreateVideoRequest> {
    Request::new(pb::CreateVideoRequest {
        video_id: video.into(),
        client_id: "1".into(),
        channel_id: channel.into(),
        view_count: Some(0),
        ..Default::default()
    })
}

impl Video {
    async fn new(channels: &[&str]) -> Video {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let channel = FakeChannel::default();
        channel
            .channels
            .lock()
            .unwrap()
            .extend(channels.iter().map(|c| (c.to_string(), "1".to_owned())));
        let peer = peer_in_memory("video.channel", channel.routes(), policy()).await;
        Video {
            api: VideoApi::new(test.store.clone(), peer),
            test,
            channel,
            policies: crate::policies(),
        }
    }

    async fn with_channel_down() -> Video {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        Video {
            api: VideoApi::new(test.store.clone(), peer_down("video.channel", policy())),
            test,
            channel: FakeChannel::default(),
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, event: &Delivered) {
        self.test.deliver(&self.policies, event).await.unwrap();
    }

    fn asked(&self) -> usize {
        self.channel.asked.load(Ordering::SeqCst)
    }

    async fn get(&self, id: &str) -> Result<pb::Video, Status> {
        let request = Request::new(pb::GetVideoRequest {
            video_id: id.into(),
        });
        self.api.get_video(request).await.map(Response::into_inner)
    }
}

#[tokio::test]
async fn a_channel_the_replica_knows_is_not_asked_and_a_miss_is_asked_once() {
    let v = Video::new(&["b"]).await;
    v.deliver(&created("a", "1", 1)).await;
    v.api.create_video(upload("1", "a")).await.unwrap();
    assert_eq!(v.asked(), 0);
    // Created a moment ago, its event not here yet: asked, then learned.
    v.api.create_video(upload("2", "b")).await.unwrap();
    v.api.create_video(upload("3", "b")).await.unwrap();
    assert_eq!(v.asked(), 1);
    let uploaded = v.test.raised_of::<pb::VideoUploaded>().await;
    assert_eq!(uploaded.len(), 3);
    assert!(
        uploaded.iter().all(|u| !u.upload_time.is_empty()),
        "{uploaded:?}"
    );
    assert_eq!(
        (
            uploaded[1].channel_id.as_str(),
            uploaded[1].client_id.as_str()
        ),
        ("b", "1")
    );
}

#[tokio::test]
async fn an_unknown_channel_is_not_found_naming_channel_id() {
    let v = Video::new(&[]).await;
    let refused = v.api.create_video(upload("1", "nope")).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert!(refused.message().starts_with("channel_id"), "{refused:?}");
    assert!(v.test.raised().await.is_empty());
}

#[tokio::test]
async fn channel_down_on_a_miss_is_unavailable_never_a_false_404() {
    let v = Video::with_channel_down().await;
    let refused = v.api.create_video(upload("1", "a")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    // Known through its event, the channel takes uploads with channel down.
    v.deliver(&created("a", "1", 1)).await;
    v.api.create_video(upload("1", "a")).await.unwrap();
}

#[tokio::test]
async fn a_deleted_channel_deletes_its_videos_once() {
    let v = Video::new(&[]).await;
    v.deliver(&created("a", "1", 1)).await;
    v.deliver(&created("b", "1", 1)).await;
    for (video, channel) in [("1", "a"), ("2", "a"), ("3", "b")] {
        v.api.create_video(upload(video, channel)).await.unwrap();
    }
    let deletion = channel_deleted("a", 2);
    v.deliver(&deletion).await;
    v.deliver(&deletion).await;
    v.deliver(&channel_deleted("a", 2)).await;
    let deleted = v.test.raised_of::<pb::VideoDeleted>().await;
    let mut ids: Vec<_> = deleted.iter().map(|d| d.video_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(v.get("1").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(v.get("3").await.unwrap().status, "ACTIVE");
    let refused = v.api.create_video(upload("4", "a")).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
}

#[tokio::test]
async fn a_deletion_before_the_creation_is_for_good() {
    let v = Video::new(&["a"]).await;
    v.deliver(&channel_deleted("a", 2)).await;
    v.deliver(&created("a", "1", 1)).await;
    let refused = v.api.create_video(upload("1", "a")).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(v.asked(), 0, "the replica knows it is gone");
}

#[tokio::test]
async fn a_takedown_removes_once_and_stops_edits() {
    let v = Video::new(&["a"]).await;
    v.api.create_video(upload("1", "a")).await.unwrap();
    let order = pb::VideoTakedownOrdered {
        video_id: "1".into(),
        policy_id: "p".into(),
        reason: "policy deleted".into(),
    };
    let takedown = delivered("video.policy", &order, "p", 1);
    v.deliver(&takedown).await;
    v.deliver(&delivered("video.policy", &order, "p", 2)).await;
    assert_eq!(v.get("1").await.unwrap().status, "REMOVED_BY_POLICY");
    let removed = v.test.raised_of::<pb::VideoRemovedByPolicy>().await;
    assert_eq!(removed.len(), 1);
    let view = v
        .api
        .view_video(Request::new(pb::ViewVideoRequest {
            video_id: "1".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(view.code(), Code::FailedPrecondition);
    // A takedown of a video that is not there changes nothing.
    let unknown = pb::VideoTakedownOrdered {
        video_id: "nope".into(),
        ..order
    };
    v.deliver(&delivered("video.policy", &unknown, "p", 3))
        .await;
}

#[tokio::test]
async fn a_view_raises_video_viewed_and_an_edit_video_edited_on_one_version_line() {
    let v = Video::new(&["a", "b"]).await;
    v.api.create_video(upload("1", "a")).await.unwrap();
    v.api
        .view_video(Request::new(pb::ViewVideoRequest {
            video_id: "1".into(),
        }))
        .await
        .unwrap();
    let moved = v
        .api
        .update_video(Request::new(pb::UpdateVideoRequest {
            video_id: "1".into(),
            channel_id: Some("b".into()),
            view_count: Some(100),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((moved.view_count, moved.channel_id.as_str()), (100, "b"));
    let versions: Vec<i64> = v
        .test
        .raised()
        .await
        .iter()
        .map(Delivered::aggregate_version)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    // A view is not an edit: it raises VideoViewed (the whole video at its version), the
    // PATCH of the count stays an edit.
    let viewed = v.test.raised_of::<pb::VideoViewed>().await;
    assert_eq!(
        (
            viewed.len(),
            viewed[0].view_count,
            viewed[0].channel_id.as_str()
        ),
        (1, 1, "a")
    );
    let edits = v.test.raised_of::<pb::VideoEdited>().await;
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        (edits[0].view_count, edits[0].previous_channel_id.as_str()),
        (100, "a")
    );
    let negative = v
        .api
        .update_video(Request::new(pb::UpdateVideoRequest {
            video_id: "1".into(),
            view_count: Some(-1),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert!(negative.message().starts_with("view_count"), "{negative:?}");
}

#[tokio::test]
async fn a_retried_upload_is_answered_the_video_as_it_is_now() {
    let v = Video::new(&["a", "b"]).await;
    let titled = |channel: &str, title: &str| {
        let mut r = upload("1", channel);
        r.get_mut().title = title.into();
        r
    };
    v.api.create_video(titled("a", "cats")).await.unwrap();
    v.api
        .view_video(Request::new(pb::ViewVideoRequest {
            video_id: "1".into(),
        }))
        .await
        .unwrap();
    let again = v.api.create_video(titled("a", "cats")).await.unwrap();
    assert_eq!(again.into_inner().view_count, 1, "as it is now");
    assert_eq!(v.test.raised_of::<pb::VideoUploaded>().await.len(), 1);
    for other in [titled("a", "dogs"), titled("b", "cats")] {
        let refused = v.api.create_video(other).await.unwrap_err();
        assert_eq!(refused.code(), Code::AlreadyExists);
        assert!(refused.message().contains("\"1\""), "{refused:?}");
    }
    v.api
        .delete_video(Request::new(pb::DeleteVideoRequest {
            video_id: "1".into(),
        }))
        .await
        .unwrap();
    let retired = v.api.create_video(titled("a", "cats")).await.unwrap_err();
    assert_eq!(
        retired.code(),
        Code::AlreadyExists,
        "a deleted id stays retired"
    );
}

/// Keyset paging: a video created before the cursor, written between two pages, neither
/// repeats a row on the later pages (as an offset would) nor hides one; one created after
/// it is still listed.
#[tokio::test]
async fn a_page_token_survives_rows_inserted_before_it() {
    let f = Video::new(&[]).await;
    for n in 1..=5 {
        insert(
            &f.test,
            &format!("v{n}"),
            ("c1", "1"),
            &format!("2026-01-01T00:00:0{n}.000000Z"),
        )
        .await;
    }
    let list = |token: String| {
        let request = Request::new(pb::ListVideosRequest {
            page_size: 2,
            page_token: token,
            ..Default::default()
        });
        let api = &f.api;
        async move {
            let r = api.list_videos(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.videos.into_iter().map(|v| v.video_id).collect();
            (ids, r.next_page_token)
        }
    };
    let (mut seen, token) = list(String::new()).await;
    assert_eq!(seen, ["v1", "v2"]);
    insert(&f.test, "v0", ("c1", "1"), "2026-01-01T00:00:00.000000Z").await;
    insert(&f.test, "v9", ("c1", "1"), "2026-01-01T00:00:09.000000Z").await;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["v1", "v2", "v3", "v4", "v5", "v9"]);
}

/// Records an active video of `(channel, client)` created at `at` directly, so tests choose
/// its time.
async fn insert(test: &TestStore, id: &str, (channel, client): (&str, &str), at: &str) {
    sql::query(
        "INSERT INTO videos (video_id, client_id, channel_id, title, view_count, status, \
         version, deleted, create_time) VALUES ($1, $2, $3, $1, 0, 'ACTIVE', 1, 0, $4)",
    )
    .bind(id.to_owned())
    .bind(client.to_owned())
    .bind(channel.to_owned())
    .bind(at.to_owned())
    .execute(test.store.writer())
    .await
    .unwrap();
}

/// Every video id from the first page to the last, `size` a page, of a channel and a client
/// ("": any).
async fn paged(api: &VideoApi, (channel, client): (&str, &str), size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListVideosRequest {
            page_size: size,
            page_token: token,
            channel_id: channel.into(),
            client_id: client.into(),
        });
        async move {
            let r = api.list_videos(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.videos.into_iter().map(|v| v.video_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

/// Each filter, and both, page in the same order as all videos: creation time, then id for
/// videos created in the same microsecond.
#[tokio::test]
async fn each_filter_pages_in_creation_order_ties_by_id() {
    let f = Video::new(&[]).await;
    let at = |s: u32| format!("2026-01-01T00:00:0{s}.000000Z");
    for (id, owner, second) in [
        ("v3", ("a", "1"), 1),
        ("v1", ("b", "2"), 1),
        ("v2", ("c", "1"), 1),
        ("v4", ("a", "1"), 2),
        ("v0", ("b", "2"), 3),
        ("v5", ("a", "1"), 3),
    ] {
        insert(&f.test, id, owner, &at(second)).await;
    }
    assert_eq!(paged(&f.api, ("a", ""), 1).await, ["v3", "v4", "v5"]);
    assert_eq!(paged(&f.api, ("", "1"), 2).await, ["v2", "v3", "v4", "v5"]);
    assert_eq!(paged(&f.api, ("a", "1"), 2).await, ["v3", "v4", "v5"]);
    assert_eq!(paged(&f.api, ("a", "2"), 2).await, Vec::<String>::new());
    let all = ["v1", "v2", "v3", "v4", "v0", "v5"];
    assert_eq!(paged(&f.api, ("", ""), 4).await, all);
}

/// A filtered listing seeks an index of its filter, in list order: not a walk of every
/// video (which `($n = '' OR channel_id = $n)` made of it) nor a sort.
#[tokio::test]
async fn a_filtered_listing_is_sought_in_an_index_of_its_filter() {
    let f = Video::new(&[]).await;
    let channel = "INDEX videos_by_channel_key (channel_id=?";
    let client = "INDEX videos_by_client (client_id=?";
    for (channel_id, client_id, seeks) in [
        ("a", "", vec![channel]),
        ("", "1", vec![client]),
        ("a", "1", vec![channel, client]),
    ] {
        let (sql, _) = crate::store::list_statement(channel_id, client_id);
        f.test.assert_seeks(&sql, &seeks).await;
    }
}
