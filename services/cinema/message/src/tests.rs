//! Message's rules in process: a real SQLite store in a temporary folder, reservation
//! events delivered as the consumer would, the gRPC adapter called directly.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::cinema::v1 as pb;
use pb::message_service_server::MessageService;
use std::sync::Arc;
use tonic::{Code, Request};

use crate::grpc::MessageApi;

async fn message() -> (TestStore, MessageApi, Arc<dyn Handler>) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = MessageApi::new(test.store.clone());
    (test, api, crate::policies())
}

fn confirmed(rsv: &str) -> Delivered {
    let event = pb::ReservationConfirmed {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
        ..Default::default()
    };
    delivered("cinema.reservation", &event, rsv, 1)
}

fn cancelled(rsv: &str) -> Delivered {
    let event = pb::ReservationCancelled {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.reservation", &event, rsv, 3)
}

async fn kinds(api: &MessageApi, rsv: &str) -> Vec<String> {
    let request = Request::new(pb::ListMessagesRequest {
        rsv_id: rsv.into(),
        ..Default::default()
    });
    let mut kinds: Vec<String> = api
        .list_messages(request)
        .await
        .unwrap()
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.kind)
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn a_confirmation_and_a_cancellation_each_send_one_message() {
    let (test, api, policies) = message().await;
    test.deliver(&policies, &confirmed("r1")).await.unwrap();
    test.deliver(&policies, &confirmed("r2")).await.unwrap();
    test.deliver(&policies, &cancelled("r1")).await.unwrap();
    assert_eq!(kinds(&api, "r1").await, ["CANCELLED", "CONFIRMED"]);
    assert_eq!(kinds(&api, "r2").await, ["CONFIRMED"]);
    let all = api
        .list_messages(Request::new(pb::ListMessagesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(all.len(), 3);
    let r2 = all.iter().find(|m| m.rsv_id == "r2").unwrap();
    assert_eq!(
        (r2.customer_id.as_str(), r2.text.as_str()),
        ("kim", "reservation r2 for movie m1 is confirmed")
    );
}

#[tokio::test]
async fn replays_and_duplicates_send_nothing_more() {
    let (test, api, policies) = message().await;
    let event = confirmed("r1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap(); // redelivered
    test.deliver(&policies, &confirmed("r1")).await.unwrap(); // the same change, another id
    let cancel = cancelled("r1");
    test.deliver(&policies, &cancel).await.unwrap();
    test.deliver(&policies, &cancel).await.unwrap();
    test.deliver(&policies, &cancelled("r1")).await.unwrap();
    assert_eq!(kinds(&api, "r1").await, ["CANCELLED", "CONFIRMED"]);
}

#[tokio::test]
async fn a_cancellation_delivered_first_still_leaves_both_messages() {
    let (test, api, policies) = message().await;
    test.deliver(&policies, &cancelled("r1")).await.unwrap();
    test.deliver(&policies, &confirmed("r1")).await.unwrap();
    assert_eq!(kinds(&api, "r1").await, ["CANCELLED", "CONFIRMED"]);
}

#[tokio::test]
async fn a_bad_filter_or_page_is_refused_naming_the_field() {
    let (_test, api, _) = message().await;
    for (request, field) in [
        (
            pb::ListMessagesRequest {
                rsv_id: "a b".into(),
                ..Default::default()
            },
            "rsv_id",
        ),
        (
            pb::ListMessagesRequest {
                page_token: "garbage".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ] {
        let status = api.list_messages(Request::new(request)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
}
