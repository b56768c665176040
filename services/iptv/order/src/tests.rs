//! Order in process, in milliseconds: a real SQLite store in a temporary folder, the gRPC
//! adapter called directly, events delivered to the policies as the consumer would.
use mediamesh_mesh::sql;
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::iptv::v1 as pb;
use pb::join_order_service_server::JoinOrderService;
use tonic::{Code, Request};
use tonic_types::StatusExt;

use crate::grpc::OrderApi;

async fn order() -> (TestStore, OrderApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = OrderApi::new(test.store.clone());
    (test, api)
}

fn apply(id: &str) -> pb::CreateJoinOrderRequest {
    pb::CreateJoinOrderRequest {
        join_order_id: id.into(),
        customer_id: "kim".into(),
        customer_name: "김철수".into(),
        address: "Seoul 1".into(),
        region: "seoul".into(),
        product: "INTERNET_TV".into(),
    }
}

async fn get(api: &OrderApi, id: &str) -> pb::JoinOrder {
    let request = pb::GetJoinOrderRequest {
        join_order_id: id.into(),
    };
    api.get_join_order(Request::new(request))
        .await
        .unwrap()
        .into_inner()
}

async fn cancel(api: &OrderApi, id: &str) -> Result<pb::JoinOrder, tonic::Status> {
    let request = pb::UpdateJoinOrderRequest {
        join_order_id: id.into(),
        status: "cancel".into(),
    };
    api.update_join_order(Request::new(request))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn an_order_is_requested_once_and_raises_one_event() {
    let (test, api) = order().await;
    let first = api
        .create_join_order(Request::new(apply("o1")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (first.status.as_str(), first.cancel_status.as_str()),
        ("REQUESTED", "")
    );
    let again = api
        .create_join_order(Request::new(apply("o1")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first, "a retry answers the recorded order");
    let other = pb::CreateJoinOrderRequest {
        customer_id: "lee".into(),
        ..apply("o1")
    };
    let taken = api
        .create_join_order(Request::new(other))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    let raised: Vec<pb::JoinOrderRequested> = test.raised_of().await;
    assert_eq!(raised.len(), 1);
    assert_eq!(
        (raised[0].region.as_str(), raised[0].product.as_str()),
        ("seoul", "INTERNET_TV")
    );
    let assigned = api
        .create_join_order(Request::new(apply("")))
        .await
        .unwrap()
        .into_inner();
    assert!(!assigned.join_order_id.is_empty(), "an id is assigned");
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let (test, api) = order().await;
    let cases = [
        (
            pb::CreateJoinOrderRequest {
                product: "TV".into(),
                ..apply("o1")
            },
            "product",
        ),
        (
            pb::CreateJoinOrderRequest {
                customer_id: "a b".into(),
                ..apply("o1")
            },
            "customer_id",
        ),
        (
            pb::CreateJoinOrderRequest {
                join_order_id: "x".repeat(65),
                ..apply("")
            },
            "join_order_id",
        ),
        (
            pb::CreateJoinOrderRequest {
                address: "가".repeat(201),
                ..apply("o1")
            },
            "address",
        ),
        (
            pb::CreateJoinOrderRequest {
                region: String::new(),
                ..apply("o1")
            },
            "region",
        ),
        (
            pb::CreateJoinOrderRequest {
                customer_name: "a\u{7}".into(),
                ..apply("o1")
            },
            "customer_name",
        ),
    ];
    for (request, field) in cases {
        let status = api
            .create_join_order(Request::new(request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        let named = status.get_details_bad_request().unwrap().field_violations[0]
            .field
            .clone();
        assert_eq!(named, field);
    }
    assert!(test.raised().await.is_empty());
    assert_eq!(
        cancel(&api, "nope").await.unwrap_err().code(),
        Code::NotFound
    );
    api.create_join_order(Request::new(apply("o1")))
        .await
        .unwrap();
    let request = pb::UpdateJoinOrderRequest {
        join_order_id: "o1".into(),
        status: "join".into(),
    };
    let status = api
        .update_join_order(Request::new(request))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_cancellation_is_requested_once_and_answered_by_the_desk() {
    let (test, api) = order().await;
    api.create_join_order(Request::new(apply("o1")))
        .await
        .unwrap();
    let asked = cancel(&api, "o1").await.unwrap();
    assert_eq!(
        (asked.status.as_str(), asked.cancel_status.as_str()),
        ("REQUESTED", "CANCEL_REQUESTED")
    );
    cancel(&api, "o1").await.unwrap();
    let requested: Vec<pb::JoinOrderCancelRequested> = test.raised_of().await;
    assert_eq!(requested.len(), 1, "asked once");

    let policies = crate::policies();
    let accepted = pb::CancellationAccepted {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
    };
    let event = delivered("iptv.assignment", &accepted, "o1", 3);
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap();
    let rejected = pb::CancellationRejected {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
    };
    test.deliver(&policies, &delivered("iptv.assignment", &rejected, "o1", 4))
        .await
        .unwrap();
    let o = get(&api, "o1").await;
    assert_eq!(
        (o.status.as_str(), o.cancel_status.as_str()),
        ("CANCELLED", "CANCELLED")
    );
}

#[tokio::test]
async fn steps_move_forward_whatever_the_delivery_order() {
    let (test, api) = order().await;
    api.create_join_order(Request::new(apply("o1")))
        .await
        .unwrap();
    let policies = crate::policies();
    let joined = pb::SubscriptionCompleted {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
    };
    let installed = pb::InstallationCompleted {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
        installer_id: "i1".into(),
    };
    let assigned = pb::InstallerAssigned {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
        installer_id: "i1".into(),
        ..Default::default()
    };
    test.deliver(
        &policies,
        &delivered("iptv.installation", &installed, "o1", 3),
    )
    .await
    .unwrap();
    assert_eq!(get(&api, "o1").await.status, "INSTALLED");
    test.deliver(&policies, &delivered("iptv.assignment", &joined, "o1", 3))
        .await
        .unwrap();
    test.deliver(&policies, &delivered("iptv.assignment", &assigned, "o1", 2))
        .await
        .unwrap();
    assert_eq!(get(&api, "o1").await.status, "JOINED");
    // An event about an order this context never recorded is not ours.
    test.deliver(
        &policies,
        &delivered(
            "iptv.assignment",
            &pb::SubscriptionCompleted {
                join_order_id: "other".into(),
                customer_id: "kim".into(),
            },
            "other",
            3,
        ),
    )
    .await
    .unwrap();
}

/// Keyset paging: an order created before the cursor, written between two pages, neither
/// repeats a row on the later pages (as an offset would) nor hides one; one created after
/// it is still listed.
#[tokio::test]
async fn a_page_token_survives_rows_inserted_before_it() {
    let (test, api) = order().await;
    for n in 1..=5 {
        insert(
            &test,
            &format!("o{n}"),
            "kim",
            &format!("2026-01-01T00:00:0{n}.000000Z"),
        )
        .await;
    }
    let list = |token: String| {
        let request = Request::new(pb::ListJoinOrdersRequest {
            page_size: 2,
            page_token: token,
            ..Default::default()
        });
        let api = &api;
        async move {
            let r = api.list_join_orders(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.join_orders.into_iter().map(|o| o.join_order_id).collect();
            (ids, r.next_page_token)
        }
    };
    let (mut seen, token) = list(String::new()).await;
    assert_eq!(seen, ["o1", "o2"]);
    insert(&test, "o0", "kim", "2026-01-01T00:00:00.000000Z").await;
    insert(&test, "o9", "kim", "2026-01-01T00:00:09.000000Z").await;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["o1", "o2", "o3", "o4", "o5", "o9"]);
}

/// Records an order of `customer` created at `at` directly, so tests choose its time.
async fn insert(test: &TestStore, id: &str, customer: &str, at: &str) {
    sql::query(
        "INSERT INTO join_orders (join_order_id, customer_id, customer_name, address, \
         region, product, status, cancel_status, create_time, version) \
         VALUES ($1, $2, $2, 'Seoul 1', 'seoul', 'INTERNET_TV', 'REQUESTED', '', $3, 1)",
    )
    .bind(id.to_owned())
    .bind(customer.to_owned())
    .bind(at.to_owned())
    .execute(test.store.writer())
    .await
    .unwrap();
}

/// Every order id from the first page to the last, `size` a page, of `customer` ("": all).
async fn paged(api: &OrderApi, customer: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListJoinOrdersRequest {
            page_size: size,
            page_token: token,
            customer_id: customer.into(),
        });
        async move {
            let r = api.list_join_orders(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.join_orders.into_iter().map(|o| o.join_order_id).collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

/// A customer's pages follow the same order as all orders': creation time, then id for
/// orders created in the same microsecond.
#[tokio::test]
async fn a_customers_orders_page_in_creation_order_ties_by_id() {
    let (test, api) = order().await;
    let at = |s: u32| format!("2026-01-01T00:00:0{s}.000000Z");
    for (id, customer, second) in [
        ("o3", "kim", 1),
        ("o1", "lee", 1),
        ("o2", "kim", 1),
        ("o4", "lee", 2),
        ("o0", "kim", 3),
    ] {
        insert(&test, id, customer, &at(second)).await;
    }
    assert_eq!(paged(&api, "kim", 1).await, ["o2", "o3", "o0"]);
    assert_eq!(paged(&api, "lee", 2).await, ["o1", "o4"]);
    assert_eq!(paged(&api, "", 2).await, ["o1", "o2", "o3", "o4", "o0"]);
}

/// A customer's orders are sought in their index, in list order: not a walk of every order
/// (which `($n = '' OR customer_id = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_customers_orders_are_sought_in_their_index() {
    let (test, _) = order().await;
    let (sql, _) = crate::store::list_statement("kim");
    test.assert_seeks(&sql, &["INDEX join_orders_by_customer_key (customer_id=?"])
        .await;
}
