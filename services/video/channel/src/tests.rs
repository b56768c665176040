//! Channel's rules in process: a real SQLite store in a temporary folder, video events
//! delivered as the consumer would (replayed, duplicated under another event id,
//! reordered), the gRPC adapter called directly.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Handler, Peer};
use mediamesh_proto::video::v1 as pb;
use pb::channel_service_server::ChannelService;
use pb::client_service_server::ClientServiceServer;
use tonic::service::Routes;
use tonic::{Code, Request, Status};

use crate::grpc::ChannelApi;

struct Channel {
    test: TestStore,
    api: ChannelApi,
    client: FakeClient,
    policies: Arc<dyn Handler>,
}

/// Client as channel sees it: `GetClient` answers for the clients it holds, and counts the
/// asks.
#[derive(Clone, Default)]
struct FakeClient {
    clients: Arc<Mutex<BTreeSet<String>>>,
    asked: Arc<AtomicUsize>,
}

impl FakeClient {
    fn routes(&self) -> Routes {
        let fake = self.clone();
        let get = move |r: pb::GetClientRequest| {
            fake.asked.fetch_add(1, Ordering::SeqCst);
            let known = fake.clients.lock().unwrap().contains(&r.client_id);
            async move {
                if !known {
                    let id = r.client_id;
                    return Err(Status::not_found(format!("client {id:?} not found")));
                }
                Ok(pb::Client {
                    client_id: r.client_id,
                    total_view: 0,
                })
            }
        };
        Fake::<ClientServiceServer<()>>::new()
            .unary("GetClient", get)
            .routes()
    }
}

fn call_policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(500),
        retries: 0,
        ..CallPolicy::default()
    }
}

const VIDEO: &str = "video.video";

fn uploaded(video: &str, channel: &str, views: i64) -> pb::VideoUploaded {
    pb::VideoUploaded {
        video_id: video.into(),
        client_id: "c".into(),
        channel_id: channel.into(),
        title: String::new(),
        view_count: views,
        upload_time: String::new(),
    }
}

fn edited(video: &str, channel: &str, views: i64, previous: &str) -> pb::VideoEdited {
    pb::VideoEdited {
        video_id: video.into(),
        client_id: "c".into(),
        channel_id: channel.into(),
        title: String::new(),
        view_count: views,
        previous_channel_id: previous.into(),
    }
}

impl Channel {
    async fn new(channels: &[&str]) -> Channel {
        let client = FakeClient::default();
        client.clients.lock().unwrap().insert("c".into());
        let peer = peer_in_memory("video.client", client.routes(), call_policy()).await;
        Channel::with(peer, client, channels).await
    }

    async fn with(peer: Peer, client: FakeClient, channels: &[&str]) -> Channel {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let ch = Channel {
            api: ChannelApi::new(test.store.clone(), peer),
            test,
            client,
            policies: crate::policies(),
        };
        for id in channels {
            ch.api
                .create_channel(Request::new(pb::CreateChannelRequest {
                    channel_id: (*id).into(),
                    channel_name: (*id).into(),
                    client_id: "c".into(),
                    total_view: Some(0),
                    ..Default::default()
                }))
                .await
                .unwrap();
        }
        ch
    }

    async fn deliver(&self, event: &mediamesh_mesh::Delivered) {
        self.test.deliver(&self.policies, event).await.unwrap();
    }

    async fn totals(&self, id: &str) -> (i32, i32) {
        let c = self
            .api
            .get_channel(Request::new(pb::GetChannelRequest {
                channel_id: id.into(),
            }))
            .await
            .unwrap()
            .into_inner();
        (c.total_view, c.video_count)
    }
}

#[tokio::test]
async fn totals_follow_uploads_edits_and_deletions() {
    let ch = Channel::new(&["a"]).await;
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 2), "1", 1))
        .await;
    ch.deliver(&delivered(VIDEO, &uploaded("2", "a", 0), "2", 1))
        .await;
    ch.deliver(&delivered(VIDEO, &edited("2", "a", 3, ""), "2", 2))
        .await;
    assert_eq!(ch.totals("a").await, (5, 2));
    let deleted = pb::VideoDeleted {
        video_id: "2".into(),
        client_id: "c".into(),
        channel_id: "a".into(),
    };
    ch.deliver(&delivered(VIDEO, &deleted, "2", 3)).await;
    assert_eq!(ch.totals("a").await, (2, 1));
    let raised = ch.test.raised_of::<pb::ChannelTotalChanged>().await;
    let last = raised.last().unwrap();
    assert_eq!((last.total_view, last.video_count), (2, 1));
}

#[tokio::test]
async fn a_replayed_or_duplicated_event_counts_once() {
    let ch = Channel::new(&["a"]).await;
    let upload = delivered(VIDEO, &uploaded("1", "a", 4), "1", 1);
    ch.deliver(&upload).await;
    ch.deliver(&upload).await;
    // The same change raised again under another event id.
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 4), "1", 1))
        .await;
    assert_eq!(ch.totals("a").await, (4, 1));
    assert_eq!(
        ch.test.raised_of::<pb::ChannelTotalChanged>().await.len(),
        1
    );
}

#[tokio::test]
async fn reordered_events_end_at_the_latest_version() {
    let ch = Channel::new(&["a", "b"]).await;
    // The move (version 3) arrives before the upload and the first edit.
    ch.deliver(&delivered(VIDEO, &edited("1", "b", 9, "a"), "1", 3))
        .await;
    ch.deliver(&delivered(VIDEO, &edited("1", "a", 5, ""), "1", 2))
        .await;
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 0), "1", 1))
        .await;
    assert_eq!(ch.totals("a").await, (0, 0));
    assert_eq!(ch.totals("b").await, (9, 1));
    // A deletion before the upload: the upload never counts.
    let deleted = pb::VideoDeleted {
        video_id: "2".into(),
        client_id: "c".into(),
        channel_id: "a".into(),
    };
    ch.deliver(&delivered(VIDEO, &deleted, "2", 2)).await;
    ch.deliver(&delivered(VIDEO, &uploaded("2", "a", 7), "2", 1))
        .await;
    assert_eq!(ch.totals("a").await, (0, 0));
}

#[tokio::test]
async fn a_takedown_leaves_every_total() {
    let ch = Channel::new(&["a"]).await;
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 100), "1", 1))
        .await;
    let removed = pb::VideoRemovedByPolicy {
        video_id: "1".into(),
        client_id: "c".into(),
        channel_id: "a".into(),
        reason: "policy deleted".into(),
    };
    ch.deliver(&delivered(VIDEO, &removed, "1", 2)).await;
    assert_eq!(ch.totals("a").await, (0, 0));
}

#[tokio::test]
async fn computed_totals_and_retired_ids_are_refused() {
    let ch = Channel::new(&["a"]).await;
    let given = ch
        .api
        .create_channel(Request::new(pb::CreateChannelRequest {
            channel_id: "b".into(),
            channel_name: "b".into(),
            client_id: "c".into(),
            total_view: Some(3),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(given.code(), Code::InvalidArgument);
    assert!(given.message().starts_with("total_view"), "{given:?}");
    ch.api
        .delete_channel(Request::new(pb::DeleteChannelRequest {
            channel_id: "a".into(),
        }))
        .await
        .unwrap();
    let again = ch
        .api
        .create_channel(Request::new(pb::CreateChannelRequest {
            channel_id: "a".into(),
            channel_name: "a".into(),
            client_id: "c".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let raised = ch.test.raised_of::<pb::ChannelDeleted>().await;
    assert_eq!(raised[0].channel_id, "a");
    // Events about its videos after the deletion count for nothing and raise nothing.
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 5), "1", 1))
        .await;
    assert!(
        ch.test
            .raised_of::<pb::ChannelTotalChanged>()
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_retried_create_is_answered_the_channel_as_it_is_now() {
    let ch = Channel::new(&["a"]).await;
    let open = |name: &str, client: &str| {
        ch.api
            .create_channel(Request::new(pb::CreateChannelRequest {
                channel_id: "a".into(),
                channel_name: name.into(),
                client_id: client.into(),
                ..Default::default()
            }))
    };
    ch.deliver(&delivered(VIDEO, &uploaded("v", "a", 4), "v", 1))
        .await;
    let again = open("a", "c").await.unwrap().into_inner();
    assert_eq!(again.total_view, 4, "as it is now");
    assert_eq!(ch.test.raised_of::<pb::ChannelCreated>().await.len(), 1);
    let other = open("another name", "c").await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert!(other.message().contains("\"a\""), "{other:?}");
    ch.api
        .delete_channel(Request::new(pb::DeleteChannelRequest {
            channel_id: "a".into(),
        }))
        .await
        .unwrap();
    let retired = open("a", "c").await.unwrap_err();
    assert_eq!(
        retired.code(),
        Code::AlreadyExists,
        "a deleted id stays retired"
    );
}

#[tokio::test]
async fn views_move_the_totals_in_version_order_with_the_edits() {
    let ch = Channel::new(&["a"]).await;
    let viewed = |views: i64| pb::VideoViewed {
        video_id: "1".into(),
        client_id: "c".into(),
        channel_id: "a".into(),
        title: String::new(),
        view_count: views,
    };
    ch.deliver(&delivered(VIDEO, &uploaded("1", "a", 0), "1", 1))
        .await;
    ch.deliver(&delivered(VIDEO, &viewed(2), "1", 3)).await;
    // The first view and the seed's PATCH to 100 of an earlier version arrive late.
    ch.deliver(&delivered(VIDEO, &viewed(1), "1", 2)).await;
    assert_eq!(ch.totals("a").await, (2, 1));
    ch.deliver(&delivered(VIDEO, &edited("1", "a", 100, ""), "1", 4))
        .await;
    ch.deliver(&delivered(VIDEO, &viewed(101), "1", 5)).await;
    ch.deliver(&delivered(VIDEO, &viewed(101), "1", 5)).await;
    assert_eq!(ch.totals("a").await, (101, 1));
}

fn open(id: &str, client: &str) -> Request<pb::CreateChannelRequest> {
    Request::new(pb::CreateChannelRequest {
        channel_id: id.into(),
        channel_name: id.into(),
        client_id: client.into(),
        ..Default::default()
    })
}

fn client_event<M: prost::Message + prost::Name>(
    event: &M,
    client: &str,
) -> mediamesh_mesh::Delivered {
    delivered("video.client", event, client, 1)
}

fn registered(client: &str) -> mediamesh_mesh::Delivered {
    let e = pb::ClientRegistered {
        client_id: client.into(),
    };
    client_event(&e, client)
}

fn client_deleted(client: &str) -> mediamesh_mesh::Delivered {
    let e = pb::ClientDeleted {
        client_id: client.into(),
    };
    delivered("video.client", &e, client, 2)
}

impl Channel {
    fn asked(&self) -> usize {
        self.client.asked.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_channel_needs_a_live_client_asked_of_client_only_on_a_miss() {
    let ch = Channel::new(&[]).await;
    ch.deliver(&registered("k")).await;
    ch.api.create_channel(open("a", "k")).await.unwrap();
    assert_eq!(ch.asked(), 0, "the replica knows k");
    // Registered a moment ago, its event not here yet: asked once, then learned.
    ch.api.create_channel(open("b", "c")).await.unwrap();
    ch.api.create_channel(open("b2", "c")).await.unwrap();
    assert_eq!(ch.asked(), 1);
    let unknown = ch
        .api
        .create_channel(open("x", "nobody"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().starts_with("client_id"), "{unknown:?}");
    assert_eq!(ch.test.raised_of::<pb::ChannelCreated>().await.len(), 3);
}

#[tokio::test]
async fn client_down_on_a_miss_is_unavailable_never_a_false_404() {
    let ch = Channel::with(
        peer_down("video.client", call_policy()),
        FakeClient::default(),
        &[],
    )
    .await;
    let refused = ch.api.create_channel(open("a", "k")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    // Known through its event, the client opens channels with client down.
    ch.deliver(&registered("k")).await;
    ch.api.create_channel(open("a", "k")).await.unwrap();
}

#[tokio::test]
async fn a_deleted_client_deletes_its_channels_once_and_opens_no_more() {
    let ch = Channel::new(&["a", "b"]).await;
    ch.deliver(&registered("k")).await;
    ch.api.create_channel(open("k1", "k")).await.unwrap();
    let deletion = client_deleted("c");
    ch.deliver(&deletion).await;
    ch.deliver(&deletion).await;
    ch.deliver(&client_deleted("c")).await;
    // Its registration, delivered late, revives nothing.
    ch.deliver(&registered("c")).await;
    let deleted = ch.test.raised_of::<pb::ChannelDeleted>().await;
    let mut ids: Vec<_> = deleted.iter().map(|d| d.channel_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["a", "b"],
        "each channel once, the other client's kept"
    );
    let gone = ch
        .api
        .get_channel(Request::new(pb::GetChannelRequest {
            channel_id: "a".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let asked = ch.asked();
    let refused = ch.api.create_channel(open("c2", "c")).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert!(refused.message().starts_with("client_id"), "{refused:?}");
    assert_eq!(ch.asked(), asked, "the replica knows it is gone");
    ch.api.create_channel(open("k2", "k")).await.unwrap();
}

/// Records a live channel of `client` created at `at` directly, so tests choose its time.
async fn insert(test: &TestStore, id: &str, client: &str, at: &str) {
    mediamesh_mesh::sql::query(
        "INSERT INTO channels (channel_id, channel_name, client_id, total_view, video_count, \
         version, deleted, create_time) VALUES ($1, $1, $2, 0, 0, 1, 0, $3)",
    )
    .bind(id.to_owned())
    .bind(client.to_owned())
    .bind(at.to_owned())
    .execute(test.store.writer())
    .await
    .unwrap();
}

/// Every channel id from the first page to the last, `size` a page, of `client` ("": all).
async fn paged(api: &ChannelApi, client: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListChannelsRequest {
            page_size: size,
            page_token: token,
            client_id: client.into(),
        });
        async move {
            let r = api.list_channels(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.channels.into_iter().map(|c| c.channel_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

/// A client's pages follow the same order as all channels': creation time, then id for
/// channels created in the same microsecond.
#[tokio::test]
async fn a_clients_channels_page_in_creation_order_ties_by_id() {
    let ch = Channel::new(&[]).await;
    let at = |s: u32| format!("2026-01-01T00:00:0{s}.000000Z");
    for (id, client, second) in [
        ("h3", "1", 1),
        ("h1", "2", 1),
        ("h2", "1", 1),
        ("h4", "2", 2),
        ("h0", "1", 3),
    ] {
        insert(&ch.test, id, client, &at(second)).await;
    }
    assert_eq!(paged(&ch.api, "1", 1).await, ["h2", "h3", "h0"]);
    assert_eq!(paged(&ch.api, "2", 2).await, ["h1", "h4"]);
    assert_eq!(paged(&ch.api, "", 2).await, ["h1", "h2", "h3", "h4", "h0"]);
}

/// A client's channels are sought in their index, in list order: not a walk of every
/// channel (which `($n = '' OR client_id = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_clients_channels_are_sought_in_their_index() {
    let ch = Channel::new(&[]).await;
    let (sql, _) = crate::store::list_statement("1");
    ch.test
        .assert_seeks(&sql, &["INDEX channels_by_client_key (client_id=?"])
        .await;
}
