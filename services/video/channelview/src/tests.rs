//! The channel view in process: a real SQLite store in a temporary folder, events delivered
//! as the consumer would (replayed, reordered, stale), the gRPC adapter called directly.
use std::sync::Arc;

use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::video::v1 as pb;
use pb::channel_view_service_server::ChannelViewService;
use tonic::{Code, Request, Status};

use crate::grpc::ChannelViewApi;

struct Ctx {
    test: TestStore,
    api: ChannelViewApi,
    policies: Arc<dyn Handler>,
}

impl Ctx {
    async fn new() -> Ctx {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        Ctx {
            api: ChannelViewApi::new(test.store.clone()),
            test,
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, events: &[Delivered]) {
        for event in events {
            self.test.deliver(&self.policies, event).await.unwrap();
        }
    }

    async fn screen(&self, client: &str) -> Result<pb::ChannelView, Status> {
        let request = Request::new(pb::GetChannelViewRequest {
            client_id: client.into(),
            ..Default::default()
        });
        self.api
            .get_channel_view(request)
            .await
            .map(|r| r.into_inner())
    }
}

fn channel(id: &str, name: &str, version: i64) -> Delivered {
    let e = pb::ChannelCreated {
        channel_id: id.into(),
        channel_name: name.into(),
        client_id: "1".into(),
    };
    delivered("video.channel", &e, id, version)
}

fn renamed(id: &str, name: &str, version: i64) -> Delivered {
    let e = pb::ChannelRenamed {
        channel_id: id.into(),
        channel_name: name.into(),
        client_id: "1".into(),
    };
    delivered("video.channel", &e, id, version)
}

fn channel_total(id: &str, total: i64, count: i32, version: i64) -> Delivered {
    let e = pb::ChannelTotalChanged {
        channel_id: id.into(),
        client_id: "1".into(),
        total_view: total,
        video_count: count,
    };
    delivered("video.channel", &e, id, version)
}

fn channel_deleted(id: &str, version: i64) -> Delivered {
    let e = pb::ChannelDeleted {
        channel_id: id.into(),
        client_id: "1".into(),
    };
    delivered("video.channel", &e, id, version)
}

fn uploaded(id: &str, title: &str, version: i64) -> Delivered {
    let e = pb::VideoUploaded {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        title: title.into(),
        view_count: 0,
        // Uploaded in the order of their ids (a test's ids sort by upload).
        upload_time: format!("2026-01-01T00:00:00Z {id}"),
    };
    delivered("video.video", &e, id, version)
}

fn edited(id: &str, title: &str, views: i64, version: i64) -> Delivered {
    let e = pb::VideoEdited {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        title: title.into(),
        view_count: views,
        previous_channel_id: String::new(),
    };
    delivered("video.video", &e, id, version)
}

fn video_deleted(id: &str, version: i64) -> Delivered {
    let e = pb::VideoDeleted {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
    };
    delivered("video.video", &e, id, version)
}

fn removed(id: &str, version: i64) -> Delivered {
    let e = pb::VideoRemovedByPolicy {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        reason: "policy 1 deleted".into(),
    };
    delivered("video.video", &e, id, version)
}

fn client_total(total: i64, version: i64) -> Delivered {
    let e = pb::ClientTotalChanged {
        client_id: "1".into(),
        total_view: total,
    };
    delivered("video.client", &e, "1", version)
}

fn requested(id: &str) -> Delivered {
    let e = pb::RefundRequested {
        refund_request_id: id.into(),
        client_id: "1".into(),
        total_view: 100,
    };
    delivered("video.client", &e, id, 1)
}

fn decided(id: &str) -> Delivered {
    let e = pb::RefundDecided {
        refund_request_id: id.into(),
        client_id: "1".into(),
        status: "APPROVED".into(),
        total_view: 100,
        refund_policy: 5,
    };
    delivered("video.policy", &e, id, 2)
}

/// The seed's demo as events: channels 1 and 2 (2 renamed, then deleted), videos 1-3
/// (2 edited and deleted, 1 viewed 100 times then taken down), a refund asked and decided.
fn seed() -> Vec<Delivered> {
    vec![
        client_total(0, 1),
        channel("1", "one", 1),
        channel("2", "two", 1),
        renamed("2", "deux", 2),
        channel_deleted("2", 3),
        uploaded("1", "first", 1),
        uploaded("2", "second", 1),
        channel_total("1", 0, 2, 2),
        edited("2", "second!", 7, 2),
        channel_total("1", 7, 2, 3),
        video_deleted("2", 3),
        channel_total("1", 0, 1, 4),
        uploaded("3", "third", 1),
        edited("1", "first", 100, 2),
        channel_total("1", 100, 2, 5),
        client_total(100, 2),
        requested("r1"),
        decided("r1"),
        removed("1", 3),
        channel_total("1", 0, 1, 6),
        client_total(0, 3),
    ]
}

fn summary(view: &pb::ChannelView) -> String {
    format!("{view:?}")
}

#[tokio::test]
async fn the_seed_demo_builds_the_clients_screen() {
    let c = Ctx::new().await;
    c.deliver(&seed()).await;
    let view = c.screen("1").await.unwrap();
    assert_eq!(view.total_view, 0);
    let channels: Vec<_> = view
        .channels
        .iter()
        .map(|ch| {
            (
                ch.channel_id.as_str(),
                ch.channel_name.as_str(),
                ch.total_view,
                ch.video_count,
            )
        })
        .collect();
    assert_eq!(channels, [("1", "one", 0, 1)]);
    let videos: Vec<_> = view
        .videos
        .iter()
        .map(|v| (v.video_id.as_str(), v.view_count, v.status.as_str()))
        .collect();
    assert_eq!(
        videos,
        [("3", 0, "ACTIVE"), ("1", 100, "REMOVED_BY_POLICY")],
        "newest upload first"
    );
    assert_eq!(
        (view.channel_count, view.video_count, view.refund_count),
        (1, 2, 1)
    );
    assert_eq!(view.next_page_token, "");
    assert_eq!(view.refunds.len(), 1);
    assert_eq!(
        (
            view.refunds[0].status.as_str(),
            view.refunds[0].refund_policy
        ),
        ("APPROVED", 5)
    );
}

#[tokio::test]
async fn replayed_and_reordered_events_build_the_same_screen() {
    let live = Ctx::new().await;
    live.deliver(&seed()).await;
    let expected = summary(&live.screen("1").await.unwrap());
    // Backwards, every event twice: what a rebuild or a redelivery may see.
    let shuffled = Ctx::new().await;
    let mut events = seed();
    events.reverse();
    shuffled.deliver(&events).await;
    shuffled.deliver(&events).await;
    assert_eq!(summary(&shuffled.screen("1").await.unwrap()), expected);
    // The same changes raised again under other event ids change nothing either.
    shuffled.deliver(&seed()).await;
    assert_eq!(summary(&shuffled.screen("1").await.unwrap()), expected);
}

async fn page(c: &Ctx, size: i32, token: &str) -> Result<pb::ChannelView, Status> {
    let request = Request::new(pb::GetChannelViewRequest {
        client_id: "1".into(),
        page_size: size,
        page_token: token.into(),
    });
    c.api
        .get_channel_view(request)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn every_video_is_on_a_page_newest_first_with_the_true_count() {
    let c = Ctx::new().await;
    let events: Vec<Delivered> = (0..120)
        .map(|n| uploaded(&format!("v{n:03}"), "t", 1))
        .collect();
    c.deliver(&events).await;
    let first = c.screen("1").await.unwrap();
    assert_eq!((first.videos.len(), first.video_count), (50, 120));
    assert_eq!(first.videos[0].video_id, "v119", "the newest upload first");
    // Walking the pages shows every video once.
    let (mut seen, mut token) = (Vec::new(), String::new());
    loop {
        let view = page(&c, 100, &token).await.unwrap();
        seen.extend(view.videos.into_iter().map(|v| v.video_id));
        token = view.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let all: Vec<_> = (0..120).rev().map(|n| format!("v{n:03}")).collect();
    assert_eq!(seen, all);
    // A new upload is on the first page, whatever its id.
    c.deliver(&[uploaded("a-new", "t", 1)]).await;
    let e = pb::VideoUploaded {
        video_id: "000".into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        upload_time: "2027-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    c.deliver(&[delivered("video.video", &e, "000", 1)]).await;
    let first = page(&c, 1, "").await.unwrap();
    assert_eq!(first.videos[0].video_id, "000");
    assert_eq!(first.video_count, 122);
    let bad = page(&c, -1, "").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("page_size"), "{bad:?}");
}

#[tokio::test]
async fn a_deleted_client_has_no_screen_whatever_arrives_after() {
    let c = Ctx::new().await;
    c.deliver(&seed()).await;
    let gone = pb::ClientDeleted {
        client_id: "1".into(),
    };
    c.deliver(&[delivered("video.client", &gone, "1", 9)]).await;
    assert_eq!(c.screen("1").await.unwrap_err().code(), Code::NotFound);
    c.deliver(&[client_total(5, 10), uploaded("9", "late", 1)])
        .await;
    assert_eq!(c.screen("1").await.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn an_unknown_client_is_404_and_a_bad_id_names_the_field() {
    let c = Ctx::new().await;
    assert_eq!(c.screen("nobody").await.unwrap_err().code(), Code::NotFound);
    for bad in ["", "a b"] {
        let status = c.screen(bad).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with("client_id"),
            "{}",
            status.message()
        );
    }
}

fn viewed(id: &str, title: &str, views: i64, version: i64) -> Delivered {
    let e = pb::VideoViewed {
        video_id: id.into(),
        client_id: "1".into(),
        channel_id: "1".into(),
        title: title.into(),
        view_count: views,
    };
    delivered("video.video", &e, id, version)
}

#[tokio::test]
async fn views_show_in_version_order_even_before_the_upload() {
    let c = Ctx::new().await;
    c.deliver(&[client_total(0, 1), channel("1", "one", 1)])
        .await;
    // The second view arrives first, then the first, then the upload.
    c.deliver(&[
        viewed("v", "cats", 2, 3),
        viewed("v", "cats", 1, 2),
        uploaded("v", "cats", 1),
    ])
    .await;
    let view = c.screen("1").await.unwrap();
    let shown: Vec<_> = view
        .videos
        .iter()
        .map(|v| (v.title.as_str(), v.view_count))
        .collect();
    assert_eq!(shown, [("cats", 2)]);
}
