//! The order status view in process: events delivered as the consumer would (twice, out of
//! order), the view read through the gRPC adapter, and a miss asked of order (served in
//! memory) instead of a false 404.
use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Peer};
use mediamesh_proto::iptv::v1 as pb;
use pb::join_order_service_server::JoinOrderServiceServer;
use pb::order_status_service_server::OrderStatusService;
use tonic::{Code, Request, Status};

use crate::grpc::OrderStatusApi;

/// Order, as far as the view asks it: knows "placed" only.
async fn order() -> Peer {
    let fake = Fake::<JoinOrderServiceServer<()>>::new().unary(
        "GetJoinOrder",
        |r: pb::GetJoinOrderRequest| async move {
            if r.join_order_id != "placed" {
                return Err(Status::not_found("no such order"));
            }
            Ok(pb::JoinOrder {
                join_order_id: r.join_order_id,
                customer_id: "kim".into(),
                product: "INTERNET".into(),
                status: "REQUESTED".into(),
                create_time: "2026-01-01T00:00:00Z".into(),
                ..Default::default()
            })
        },
    );
    peer_in_memory("iptv.order", fake.routes(), CallPolicy::default()).await
}

async fn view() -> (TestStore, OrderStatusApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = OrderStatusApi::new(test.store.clone(), order().await);
    (test, api)
}

async fn get(api: &OrderStatusApi, id: &str) -> Result<pb::OrderStatus, Status> {
    let request = pb::GetOrderStatusRequest {
        join_order_id: id.into(),
    };
    api.get_order_status(Request::new(request))
        .await
        .map(|r| r.into_inner())
}

fn requested(id: &str) -> mediamesh_mesh::Delivered {
    let e = pb::JoinOrderRequested {
        join_order_id: id.into(),
        customer_id: "kim".into(),
        product: "INTERNET_TV".into(),
        ..Default::default()
    };
    delivered("iptv.order", &e, id, 1)
}

fn steps(s: &pb::OrderStatus) -> Vec<&str> {
    s.steps.iter().map(|s| s.step.as_str()).collect()
}

#[tokio::test]
async fn every_step_once_in_process_order_whatever_the_delivery() {
    let (test, api) = view().await;
    let policies = crate::policies();
    let completed = pb::InstallationCompleted {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
        installer_id: "i1".into(),
    };
    let completed = delivered("iptv.installation", &completed, "o1", 3);
    let assigned = pb::InstallerAssigned {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
        installer_id: "i1".into(),
        product: "INTERNET_TV".into(),
        ..Default::default()
    };
    // Reordered, and the same change raised twice under two event ids.
    test.deliver(&policies, &completed).await.unwrap();
    test.deliver(&policies, &completed).await.unwrap();
    test.deliver(&policies, &delivered("iptv.assignment", &assigned, "o1", 2))
        .await
        .unwrap();
    test.deliver(&policies, &requested("o1")).await.unwrap();
    test.deliver(&policies, &requested("o1")).await.unwrap();
    let s = get(&api, "o1").await.unwrap();
    assert_eq!(steps(&s), ["REQUESTED", "ASSIGNED", "INSTALLED"]);
    assert_eq!(
        (s.status.as_str(), s.product.as_str()),
        ("INSTALLED", "INTERNET_TV")
    );
    assert!(s.steps.iter().all(|s| !s.time.is_empty()));

    let rejected = pb::CancellationRejected {
        join_order_id: "o1".into(),
        customer_id: "kim".into(),
    };
    test.deliver(&policies, &delivered("iptv.assignment", &rejected, "o1", 5))
        .await
        .unwrap();
    let s = get(&api, "o1").await.unwrap();
    assert_eq!(s.status, "INSTALLED", "the order keeps its state");
    assert!(s.notice.contains("cannot"), "{}", s.notice);

    let request = pb::ListOrderStatusesRequest {
        customer_id: "kim".into(),
        ..Default::default()
    };
    let mine = api
        .list_order_statuses(Request::new(request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.order_statuses.len(), 1);
}

#[tokio::test]
async fn a_miss_asks_order_and_an_unknown_id_is_a_404() {
    let (_test, api) = view().await;
    let placed = get(&api, "placed").await.unwrap();
    assert_eq!(
        (steps(&placed), placed.status.as_str()),
        (vec!["REQUESTED"], "REQUESTED")
    );
    assert_eq!(get(&api, "nope").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        get(&api, "a b").await.unwrap_err().code(),
        Code::InvalidArgument
    );

    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let down = OrderStatusApi::new(
        test.store.clone(),
        peer_down("iptv.order", CallPolicy::default()),
    );
    assert_eq!(
        get(&down, "placed").await.unwrap_err().code(),
        Code::Unavailable
    );
}

/// Every order id from the first page to the last, `size` a page, of `customer` ("": all).
async fn paged(api: &OrderStatusApi, customer: &str, size: i32) -> Vec<String> {
    let list = move |token: String| {
        let request = Request::new(pb::ListOrderStatusesRequest {
            page_size: size,
            page_token: token,
            customer_id: customer.into(),
        });
        async move {
            let r = api.list_order_statuses(request).await.unwrap().into_inner();
            let ids: Vec<String> = r
                .order_statuses
                .into_iter()
                .map(|o| o.join_order_id)
                .collect();
            (ids, r.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn a_customers_orders_and_all_page_in_id_order() {
    let (test, api) = view().await;
    let policies = crate::policies();
    for (id, customer) in [("o3", "kim"), ("o1", "lee"), ("o2", "kim"), ("o4", "kim")] {
        let e = pb::JoinOrderRequested {
            join_order_id: id.into(),
            customer_id: customer.into(),
            product: "INTERNET_TV".into(),
            ..Default::default()
        };
        let event = delivered("iptv.order", &e, id, 1);
        test.deliver(&policies, &event).await.unwrap();
    }
    assert_eq!(paged(&api, "kim", 2).await, ["o2", "o3", "o4"]);
    assert_eq!(paged(&api, "lee", 1).await, ["o1"]);
    assert_eq!(paged(&api, "", 3).await, ["o1", "o2", "o3", "o4"]);
}

/// A customer's orders are sought in their index, in list order: not a walk of every order
/// (which `($n = '' OR customer_id = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_customers_orders_are_sought_in_their_index() {
    let (test, _) = view().await;
    let (sql, _) = crate::store::list_statement("kim");
    test.assert_seeks(&sql, &["INDEX os_orders_by_customer (customer_id=?"])
        .await;
}
