//! Payment's rules in process: a real SQLite store in a temporary folder, the gRPC adapter
//! called directly, events delivered to the policies as the consumer would.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::cinema::v1 as pb;
use pb::payment_service_server::PaymentService;
use tonic::{Code, Request};

use crate::grpc::PaymentApi;

async fn payment() -> (TestStore, PaymentApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = PaymentApi::new(test.store.clone());
    (test, api)
}

fn pay(rsv: &str, customer: &str, amount: i32) -> Request<pb::PayRequest> {
    Request::new(pb::PayRequest {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: customer.into(),
        amount,
    })
}

fn failed(rsv: &str) -> mediamesh_mesh::Delivered {
    let event = pb::ReservationFailed {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.reservation", &event, rsv, 2)
}

fn cancel_requested(rsv: &str) -> mediamesh_mesh::Delivered {
    let event = pb::ReservationCancelRequested {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.reservation", &event, rsv, 3)
}

#[tokio::test]
async fn the_same_request_is_paid_once_and_raises_one_event() {
    let (test, api) = payment().await;
    let first = api
        .pay(pay("r1", "kim", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.pay_status, "APPROVED");
    let again = api
        .pay(pay("r1", "kim", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first, "a retry answers the recorded payment");
    let approved: Vec<pb::PaymentApproved> = test.raised_of().await;
    assert_eq!(approved.len(), 1);
    assert_eq!(
        (approved[0].amount, approved[0].movie_id.as_str()),
        (10_000, "m1")
    );
}

#[tokio::test]
async fn a_reused_key_with_another_request_is_refused() {
    let (test, api) = payment().await;
    api.pay(pay("r1", "kim", 10_000)).await.unwrap();
    for other in [pay("r1", "lee", 10_000), pay("r1", "kim", 1)] {
        let refused = api.pay(other).await.unwrap_err();
        assert_eq!(refused.code(), Code::AlreadyExists);
        assert!(refused.message().starts_with("rsv_id"));
    }
    assert_eq!(test.raised_of::<pb::PaymentApproved>().await.len(), 1);
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let (test, api) = payment().await;
    for (request, field) in [
        (pay("x\r\ny", "kim", 1), "rsv_id"),
        (pay("r1", "kim", -1), "amount"),
        (pay("r1", "kim", 20_000_000), "amount"),
        (pay("r1", "a b", 1), "customer_id"),
    ] {
        let status = api.pay(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    assert!(
        test.raised().await.is_empty(),
        "nothing refused is recorded"
    );
}

#[tokio::test]
async fn a_failed_reservation_cancels_its_payment_once() {
    let (test, api) = payment().await;
    api.pay(pay("r1", "kim", 10_000)).await.unwrap();
    let policies = crate::policies();
    let event = failed("r1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap(); // redelivered: applied once
    assert_eq!(test.raised_of::<pb::PaymentCancelled>().await.len(), 1);
    let get = Request::new(pb::GetPaymentRequest {
        rsv_id: "r1".into(),
    });
    let got = api.get_payment(get).await.unwrap().into_inner();
    assert_eq!(got.pay_status, "CANCELLED");
    // The same cancellation as another event: nothing more to undo.
    test.deliver(&policies, &failed("r1")).await.unwrap();
    assert_eq!(test.raised_of::<pb::PaymentCancelled>().await.len(), 1);
}

#[tokio::test]
async fn a_void_then_a_late_pay_cannot_approve() {
    let (test, api) = payment().await;
    test.deliver(&crate::policies(), &failed("r1"))
        .await
        .unwrap();
    assert!(
        test.raised_of::<pb::PaymentCancelled>().await.is_empty(),
        "nothing was paid: nothing to compensate"
    );
    let late = api
        .pay(pay("r1", "kim", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        late.pay_status, "CANCELLED",
        "the void answers the late request"
    );
    assert!(test.raised_of::<pb::PaymentApproved>().await.is_empty());
    let other_movie = pb::PayRequest {
        movie_id: "m2".into(),
        ..pay("r1", "kim", 10_000).into_inner()
    };
    let refused = api.pay(Request::new(other_movie)).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn a_customer_cancellation_is_answered_paid_or_not() {
    let (test, api) = payment().await;
    let policies = crate::policies();
    test.deliver(&policies, &cancel_requested("unpaid"))
        .await
        .unwrap();
    api.pay(pay("paid", "kim", 10_000)).await.unwrap();
    test.deliver(&policies, &cancel_requested("paid"))
        .await
        .unwrap();
    let cancelled: Vec<pb::PaymentCancelled> = test.raised_of().await;
    let ids: Vec<&str> = cancelled.iter().map(|c| c.rsv_id.as_str()).collect();
    assert_eq!(ids, ["unpaid", "paid"]);
}
