//! Message's rules in process: a real SQLite store in a temporary folder, reservation
//! events delivered as the consumer would, the gRPC adapter called directly.
use mediamesh_mesh::serving::auth::Caller;
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
    confirmed_for(rsv, "kim")
}

fn confirmed_for(rsv: &str, customer: &str) -> Delivered {
    let event = pb::ReservationConfirmed {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: customer.into(),
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

/// Every message from the first page to the last, `size` a page, of a reservation ("": any)
/// as `customer` sees them ("": auth off, everyone's).
async fn paged(api: &MessageApi, rsv: &str, customer: &str, size: i32) -> Vec<pb::Message> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let mut request = Request::new(pb::ListMessagesRequest {
            page_size: size,
            page_token: token,
            rsv_id: rsv.into(),
        });
        if !customer.is_empty() {
            // A customer signed in sees only their own messages.
            request.extensions_mut().insert(Caller::new(customer, &[]));
        }
        let page = api.list_messages(request).await.unwrap().into_inner();
        all.extend(page.messages);
        token = page.next_page_token;
        if token.is_empty() {
            return all;
        }
    }
}

#[tokio::test]
async fn each_filter_pages_through_the_listing_order() {
    let (test, api, policies) = message().await;
    for (rsv, customer) in [("r1", "kim"), ("r2", "lee"), ("r3", "kim"), ("r4", "lee")] {
        test.deliver(&policies, &confirmed_for(rsv, customer))
            .await
            .unwrap();
    }
    test.deliver(&policies, &cancelled("r1")).await.unwrap();
    let all = paged(&api, "", "", 2).await;
    assert_eq!(all.len(), 5);
    for (rsv, customer, count) in [
        ("r1", "", 2),
        ("", "kim", 3),
        ("", "lee", 2),
        ("r1", "kim", 2),
        ("r2", "kim", 0),
    ] {
        let expected: Vec<&str> = all
            .iter()
            .filter(|m| rsv.is_empty() || m.rsv_id == rsv)
            .filter(|m| customer.is_empty() || m.customer_id == customer)
            .map(|m| m.message_id.as_str())
            .collect();
        assert_eq!(expected.len(), count, "{rsv:?} {customer:?}");
        let listed = paged(&api, rsv, customer, 1).await;
        let listed: Vec<&str> = listed.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(listed, expected, "{rsv:?} {customer:?}");
    }
}

/// A filtered listing seeks an index of its filter, in list order: not a walk of every
/// message (which `($n = '' OR rsv_id = $n)` made of it) nor a sort.
#[tokio::test]
async fn a_filtered_listing_is_sought_in_an_index_of_its_filter() {
    let (test, _, _) = message().await;
    let (rsv, customer) = (
        "INDEX messages_by_rsv (rsv_id=?",
        "INDEX messages_by_customer (customer_id=?",
    );
    for (rsv_id, customer_id, seeks) in [
        ("r1", "", vec![rsv]),
        ("", "kim", vec![customer]),
        ("r1", "kim", vec![rsv, customer]),
    ] {
        let (sql, _) = crate::store::list_statement(rsv_id, customer_id);
        test.assert_seeks(&sql, &seeks).await;
    }
}
