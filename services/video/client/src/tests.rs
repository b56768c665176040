//! Client's rules in process: a real SQLite store in a temporary folder, channel and policy
//! events delivered as the consumer would (replayed, duplicated, reordered), the gRPC
//! adapter called directly.
use std::sync::Arc;

use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::video::v1 as pb;
use pb::client_service_server::ClientService;
use tonic::{Code, Request};

use crate::grpc::ClientApi;

struct Client {
    test: TestStore,
    api: ClientApi,
    policies: Arc<dyn Handler>,
}

fn channel_total(channel: &str, client: &str, views: i64, version: i64) -> Delivered {
    let event = pb::ChannelTotalChanged {
        channel_id: channel.into(),
        client_id: client.into(),
        total_view: views,
        video_count: 1,
    };
    delivered("video.channel", &event, channel, version)
}

fn decided(id: &str, status: &str) -> Delivered {
    let event = pb::RefundDecided {
        refund_request_id: id.into(),
        client_id: "1".into(),
        status: status.into(),
        total_view: 7,
        refund_policy: 5,
    };
    delivered("video.policy", &event, id, 1)
}

impl Client {
    async fn new() -> Client {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        Client {
            api: ClientApi::new(test.store.clone()),
            test,
            policies: crate::policies(),
        }
    }

    async fn register(&self, id: &str) {
        self.api
            .create_client(Request::new(pb::CreateClientRequest {
                client_id: id.into(),
                total_view: Some(0),
            }))
            .await
            .unwrap();
    }

    async fn deliver(&self, event: &Delivered) {
        self.test.deliver(&self.policies, event).await.unwrap();
    }

    async fn total(&self, id: &str) -> i32 {
        self.api
            .get_client(Request::new(pb::GetClientRequest {
                client_id: id.into(),
            }))
            .await
            .unwrap()
            .into_inner()
            .total_view
    }
}

#[tokio::test]
async fn the_total_is_the_sum_of_the_channels_at_their_latest_versions() {
    let c = Client::new().await;
    c.register("1").await;
    c.deliver(&channel_total("a", "1", 3, 2)).await;
    c.deliver(&channel_total("b", "1", 4, 2)).await;
    assert_eq!(c.total("1").await, 7);
    // Replayed, duplicated under another id, and an older total arriving late.
    let newer = channel_total("a", "1", 10, 4);
    c.deliver(&newer).await;
    c.deliver(&newer).await;
    c.deliver(&channel_total("a", "1", 10, 4)).await;
    c.deliver(&channel_total("a", "1", 5, 3)).await;
    assert_eq!(c.total("1").await, 14);
    let raised = c.test.raised_of::<pb::ClientTotalChanged>().await;
    assert_eq!(
        raised.iter().map(|e| e.total_view).collect::<Vec<_>>(),
        [3, 7, 14],
        "one event per move"
    );
}

#[tokio::test]
async fn a_deleted_channel_counts_no_more_even_reordered() {
    let c = Client::new().await;
    c.register("1").await;
    c.deliver(&channel_total("a", "1", 3, 2)).await;
    let deleted = pb::ChannelDeleted {
        channel_id: "a".into(),
        client_id: "1".into(),
    };
    c.deliver(&delivered("video.channel", &deleted, "a", 5))
        .await;
    assert_eq!(c.total("1").await, 0);
    c.deliver(&channel_total("a", "1", 8, 4)).await;
    assert_eq!(c.total("1").await, 0, "a total from before the deletion");
}

#[tokio::test]
async fn channels_heard_of_before_the_client_count_when_it_registers() {
    let c = Client::new().await;
    c.deliver(&channel_total("a", "1", 6, 2)).await;
    c.register("1").await;
    assert_eq!(c.total("1").await, 6);
}

#[tokio::test]
async fn a_refund_request_is_decided_once() {
    let c = Client::new().await;
    c.register("1").await;
    c.deliver(&channel_total("a", "1", 7, 2)).await;
    let asked = c
        .api
        .create_refund_request(Request::new(pb::CreateRefundRequestRequest {
            refund_request_id: "r".into(),
            client_id: "1".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((asked.status.as_str(), asked.total_view), ("REQUESTED", 7));
    let requested = c.test.raised_of::<pb::RefundRequested>().await;
    assert_eq!(
        (requested[0].total_view, requested[0].client_id.as_str()),
        (7, "1")
    );
    c.deliver(&decided("r", "APPROVED")).await;
    c.deliver(&decided("r", "REJECTED")).await;
    let got = c
        .api
        .get_refund_request(Request::new(pb::GetRefundRequestRequest {
            refund_request_id: "r".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.status.as_str(), got.refund_policy), ("APPROVED", 5));
}

#[tokio::test]
async fn refunds_of_unknown_clients_and_given_totals_are_refused() {
    let c = Client::new().await;
    let unknown = c
        .api
        .create_refund_request(Request::new(pb::CreateRefundRequestRequest {
            refund_request_id: String::new(),
            client_id: "nobody".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let given = c
        .api
        .create_client(Request::new(pb::CreateClientRequest {
            client_id: "1".into(),
            total_view: Some(5),
        }))
        .await
        .unwrap_err();
    assert_eq!(given.code(), Code::InvalidArgument);
    assert!(given.message().starts_with("total_view"), "{given:?}");
    assert!(c.test.raised().await.is_empty());
}

#[tokio::test]
async fn a_retried_create_is_answered_what_it_made_and_raises_nothing_twice() {
    let c = Client::new().await;
    c.register("1").await;
    c.register("1").await;
    c.deliver(&channel_total("a", "1", 7, 2)).await;
    c.register("1").await;
    assert_eq!(c.total("1").await, 7, "answered the client as it is now");
    c.register("2").await;
    let refund = |id: &str, client: &str| {
        c.api
            .create_refund_request(Request::new(pb::CreateRefundRequestRequest {
                refund_request_id: id.into(),
                client_id: client.into(),
            }))
    };
    let first = refund("r", "1").await.unwrap().into_inner();
    c.deliver(&decided("r", "APPROVED")).await;
    let again = refund("r", "1").await.unwrap().into_inner();
    assert_eq!(
        again.status, "APPROVED",
        "the request as it is now: {again:?}"
    );
    assert_eq!(again.refund_request_id, first.refund_request_id);
    let other = refund("r", "2").await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert!(other.message().contains("\"r\""), "{other:?}");
    assert_eq!(c.test.raised_of::<pb::ClientRegistered>().await.len(), 2);
    assert_eq!(c.test.raised_of::<pb::RefundRequested>().await.len(), 1);
    // A deleted client's id stays retired, even for the same request.
    c.api
        .delete_client(Request::new(pb::DeleteClientRequest {
            client_id: "2".into(),
        }))
        .await
        .unwrap();
    let retired = c
        .api
        .create_client(Request::new(pb::CreateClientRequest {
            client_id: "2".into(),
            total_view: None,
        }))
        .await
        .unwrap_err();
    assert_eq!(retired.code(), Code::AlreadyExists);
    assert!(retired.message().contains("\"2\""), "{retired:?}");
}

/// Records a refund request of `client` made at `at` directly, so tests choose its time.
async fn insert(test: &TestStore, id: &str, client: &str, at: &str) {
    mediamesh_mesh::sql::query(
        "INSERT INTO refund_requests (refund_request_id, client_id, status, total_view, \
         refund_policy, create_time) VALUES ($1, $2, 'REQUESTED', 7, 0, $3)",
    )
    .bind(id.to_owned())
    .bind(client.to_owned())
    .bind(at.to_owned())
    .execute(test.store.writer())
    .await
    .unwrap();
}

/// Every refund request id from the first page to the last, `size` a page, of `client`
/// ("": all).
async fn paged(api: &ClientApi, client: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListRefundRequestsRequest {
            page_size: size,
            page_token: token,
            client_id: client.into(),
        });
        async move {
            let r = api
                .list_refund_requests(request)
                .await
                .unwrap()
                .into_inner();
            let ids: Vec<String> = r
                .refund_requests
                .into_iter()
                .map(|r| r.refund_request_id)
                .collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

/// A client's pages follow the same order as all requests': creation time, then id for
/// requests made in the same microsecond.
#[tokio::test]
async fn a_clients_refund_requests_page_in_creation_order_ties_by_id() {
    let c = Client::new().await;
    let at = |s: u32| format!("2026-01-01T00:00:0{s}.000000Z");
    for (id, client, second) in [
        ("r3", "1", 1),
        ("r1", "2", 1),
        ("r2", "1", 1),
        ("r4", "2", 2),
        ("r0", "1", 3),
    ] {
        insert(&c.test, id, client, &at(second)).await;
    }
    assert_eq!(paged(&c.api, "1", 1).await, ["r2", "r3", "r0"]);
    assert_eq!(paged(&c.api, "2", 2).await, ["r1", "r4"]);
    assert_eq!(paged(&c.api, "", 2).await, ["r1", "r2", "r3", "r4", "r0"]);
}

/// A client's refund requests are sought in their index, in list order: not a walk of
/// every request (which `($n = '' OR client_id = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_clients_refund_requests_are_sought_in_their_index() {
    let c = Client::new().await;
    let (sql, _) = crate::store::refunds_statement("1");
    c.test
        .assert_seeks(&sql, &["INDEX refund_requests_by_client_key (client_id=?"])
        .await;
}
