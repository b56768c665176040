//! Payment's rules in process, in milliseconds: a real SQLite store in a temporary folder, the
//! gRPC adapter called directly, events delivered to the policies as the consumer would.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_proto::vod::v1 as pb;
use pb::payment_service_server::PaymentService;
use tonic::{Code, Request};

use crate::grpc::PaymentApi;

async fn payment() -> (TestStore, PaymentApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = PaymentApi::new(test.store.clone());
    (test, api)
}

fn pay(purchase: &str, customer: &str, amount: i32) -> Request<pb::PayRequest> {
    Request::new(pb::PayRequest {
        purchase_id: purchase.into(),
        customer_id: customer.into(),
        vod_id: "1".into(),
        amount,
        free_vod: false,
    })
}

fn failed(purchase: &str) -> mediamesh_mesh::Delivered {
    let event = pb::PurchaseFailed {
        purchase_id: purchase.into(),
        customer_id: "kim".into(),
        reason: "payment timed out".into(),
    };
    delivered("vod.purchase", &event, purchase, 2)
}

#[tokio::test]
async fn a_payment_is_approved_once_and_raises_one_event() {
    let (test, api) = payment().await;
    let first = api.pay(pay("p1", "kim", 1500)).await.unwrap().into_inner();
    assert_eq!(first.pay_status, "APPROVED");
    let again = api.pay(pay("p1", "kim", 1500)).await.unwrap().into_inner();
    assert_eq!(again, first, "a retry answers the recorded payment");
    let approved: Vec<pb::PaymentApproved> = test.raised_of().await;
    assert_eq!(approved.len(), 1);
    assert_eq!(
        (approved[0].amount, approved[0].customer_id.as_str()),
        (1500, "kim")
    );
}

#[tokio::test]
async fn a_reused_key_with_another_request_is_refused() {
    let (_test, api) = payment().await;
    api.pay(pay("p1", "kim", 1500)).await.unwrap();
    let refused = api.pay(pay("p1", "lee", 1500)).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    assert!(refused.message().contains("purchase_id"));
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let (test, api) = payment().await;
    for (request, field) in [
        (pay("x\r\ny", "kim", 1), "purchase_id"),
        (pay("p1", "kim", -1), "amount"),
        (pay("p1", "kim", 2_000_000), "amount"),
        (pay("p1", "a b", 1), "customer_id"),
    ] {
        let status = api.pay(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let mut free_for_anyone = pay("p2", "", 0);
    free_for_anyone.get_mut().free_vod = true;
    let status = api.pay(free_for_anyone).await.unwrap_err();
    assert!(status.message().starts_with("customer_id"));
    assert!(
        test.raised().await.is_empty(),
        "nothing refused is recorded"
    );
}

#[tokio::test]
async fn an_abandoned_purchase_cancels_its_payment_once() {
    let (test, api) = payment().await;
    api.pay(pay("p1", "kim", 1500)).await.unwrap();
    let policies = crate::policies();
    let event = failed("p1");
    test.deliver(&policies, &event).await.unwrap();
    test.deliver(&policies, &event).await.unwrap(); // redelivered: applied once
    let cancelled: Vec<pb::PaymentCancelled> = test.raised_of().await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].amount, 1500);
    let get = Request::new(pb::GetPaymentRequest {
        purchase_id: "p1".into(),
    });
    assert_eq!(
        api.get_payment(get).await.unwrap().into_inner().pay_status,
        "CANCELLED"
    );
    // The same cancellation as another event (a cancel after a failure): nothing more.
    test.deliver(&policies, &failed("p1")).await.unwrap();
    assert_eq!(test.raised_of::<pb::PaymentCancelled>().await.len(), 1);
}

#[tokio::test]
async fn a_late_pay_after_its_void_cannot_approve() {
    let (test, api) = payment().await;
    test.deliver(&crate::policies(), &failed("p1"))
        .await
        .unwrap();
    let late = api.pay(pay("p1", "kim", 1500)).await.unwrap().into_inner();
    assert_eq!(
        late.pay_status, "CANCELLED",
        "the void answers the late request"
    );
    assert!(test.raised_of::<pb::PaymentApproved>().await.is_empty());
}

#[tokio::test]
async fn an_event_whose_id_breaks_the_id_rule_is_poison() {
    let (test, _api) = payment().await;
    let mut event = failed("p1");
    event.id = format!("x\r\n{}", "a".repeat(100));
    let refused = test.deliver(&crate::policies(), &event).await.unwrap_err();
    assert!(
        matches!(refused, mediamesh_mesh::HandlerError::Poison(_)),
        "{refused}"
    );
    assert!(test.raised().await.is_empty(), "nothing applied");
}
