//! Mileage's policies in process, in milliseconds: a real SQLite store in a temporary folder,
//! payment's events delivered exactly as the consumer would (inbox included), the gRPC
//! adapter called directly.
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, HandlerError};
use mediamesh_proto::vod::v1 as pb;
use pb::mileage_service_server::MileageService;
use tonic::{Code, Request};

use crate::grpc::MileageApi;

async fn mileage() -> (TestStore, MileageApi) {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = MileageApi::new(test.store.clone());
    (test, api)
}

fn approved(purchase: &str, customer: &str, amount: i32, free_vod: bool) -> Delivered {
    let event = pb::PaymentApproved {
        purchase_id: purchase.into(),
        customer_id: customer.into(),
        amount,
        free_vod,
    };
    delivered("vod.payment", &event, purchase, 1)
}

fn cancelled(purchase: &str, customer: &str, amount: i32, free_vod: bool) -> Delivered {
    let event = pb::PaymentCancelled {
        purchase_id: purchase.into(),
        customer_id: customer.into(),
        amount,
        free_vod,
    };
    delivered("vod.payment", &event, purchase, 2)
}

async fn deliver(test: &TestStore, event: &Delivered) -> Result<(), HandlerError> {
    test.deliver(&crate::policies(), event).await
}

async fn balance(api: &MileageApi, customer: &str) -> Result<(i32, i32), Code> {
    let request = Request::new(pb::GetMileageRequest {
        customer_id: customer.into(),
    });
    match api.get_mileage(request).await {
        Ok(m) => Ok((m.get_ref().points, m.get_ref().free_vod_credits)),
        Err(status) => Err(status.code()),
    }
}

#[tokio::test]
async fn a_paid_purchase_earns_points_once_however_often_it_arrives() {
    let (test, api) = mileage().await;
    let event = approved("p1", "kim", 1500, false);
    deliver(&test, &event).await.unwrap();
    deliver(&test, &event).await.unwrap(); // replayed: the inbox skips it
    // The same approval as another event (payment raised it twice): the ledger skips it.
    deliver(&test, &approved("p1", "kim", 1500, false))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
    let credited: Vec<pb::MileageCredited> = test.raised_of().await;
    assert_eq!(credited.len(), 1);
    assert_eq!(
        (credited[0].points, credited[0].purchase_id.as_str()),
        (1000, "p1")
    );
}

#[tokio::test]
async fn five_thousand_points_become_a_free_vod_credit() {
    let (test, api) = mileage().await;
    for n in 1..=5 {
        deliver(&test, &approved(&format!("p{n}"), "kim", 1000, false))
            .await
            .unwrap();
    }
    assert_eq!(balance(&api, "kim").await, Ok((0, 1)));
    let issued: Vec<pb::FreeVodCreditIssued> = test.raised_of().await;
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].purchase_id.as_str(), issued[0].points),
        ("p5", 0)
    );
    // The free VOD spends the credit and earns nothing; its cancellation gives it back.
    deliver(&test, &approved("p6", "kim", 0, true))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Ok((0, 0)));
    deliver(&test, &cancelled("p6", "kim", 0, true))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Ok((0, 1)));
    assert_eq!(test.raised_of::<pb::MileageCredited>().await.len(), 5);
}

#[tokio::test]
async fn a_cancelled_purchase_takes_its_points_back_once() {
    let (test, api) = mileage().await;
    deliver(&test, &approved("p1", "kim", 1500, false))
        .await
        .unwrap();
    deliver(&test, &approved("p2", "kim", 1000, false))
        .await
        .unwrap();
    let reversal = cancelled("p1", "kim", 1500, false);
    deliver(&test, &reversal).await.unwrap();
    deliver(&test, &reversal).await.unwrap();
    deliver(&test, &cancelled("p1", "kim", 1500, false))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
    let reversed: Vec<pb::MileageReversed> = test.raised_of().await;
    assert_eq!(reversed.len(), 1);
    assert_eq!(reversed[0].points, 1000);
}

#[tokio::test]
async fn a_reversal_delivered_before_its_credit_cancels_it() {
    let (test, api) = mileage().await;
    deliver(&test, &cancelled("p1", "kim", 1500, false))
        .await
        .unwrap();
    deliver(&test, &approved("p1", "kim", 1500, false))
        .await
        .unwrap();
    assert_eq!(
        balance(&api, "kim").await,
        Err(Code::NotFound),
        "nothing was ever credited"
    );
    assert!(test.raised().await.is_empty());
    // The customer's next purchase earns as usual.
    deliver(&test, &approved("p2", "kim", 1500, false))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
}

#[tokio::test]
async fn anonymous_and_unpaid_purchases_earn_nothing() {
    let (test, api) = mileage().await;
    deliver(&test, &approved("p1", "", 1500, false))
        .await
        .unwrap();
    deliver(&test, &cancelled("p1", "", 1500, false))
        .await
        .unwrap();
    deliver(&test, &approved("p2", "kim", 0, false))
        .await
        .unwrap();
    assert_eq!(balance(&api, "kim").await, Err(Code::NotFound));
    assert!(test.raised().await.is_empty());
}

#[tokio::test]
async fn a_free_vod_without_a_credit_is_poison_and_changes_nothing() {
    let (test, api) = mileage().await;
    deliver(&test, &approved("p1", "kim", 1000, false))
        .await
        .unwrap();
    let poison = deliver(&test, &approved("p2", "kim", 0, true)).await;
    assert!(matches!(poison, Err(HandlerError::Poison(_))), "{poison:?}");
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
}

#[tokio::test]
async fn a_bad_customer_id_is_refused_naming_the_field() {
    let (_test, api) = mileage().await;
    let request = Request::new(pb::GetMileageRequest {
        customer_id: "a b".into(),
    });
    let status = api.get_mileage(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("customer_id"));
}
