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

/// Delivers payment's approval of a purchase (a new event each time).
async fn approve(test: &TestStore, purchase: &str, customer: &str, amount: i32, free_vod: bool) {
    let event = approved(purchase, customer, amount, free_vod);
    deliver(test, &event).await.unwrap();
}

/// Delivers payment's cancellation of a purchase (a new event each time).
async fn cancel(test: &TestStore, purchase: &str, customer: &str, amount: i32, free_vod: bool) {
    let event = cancelled(purchase, customer, amount, free_vod);
    deliver(test, &event).await.unwrap();
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
    approve(&test, "p1", "kim", 1500, false).await;
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
        approve(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((0, 1)));
    let issued: Vec<pb::FreeVodCreditIssued> = test.raised_of().await;
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].purchase_id.as_str(), issued[0].points),
        ("p5", 0)
    );
    // The free VOD spends the credit and earns nothing; its cancellation gives it back.
    approve(&test, "p6", "kim", 0, true).await;
    assert_eq!(balance(&api, "kim").await, Ok((0, 0)));
    cancel(&test, "p6", "kim", 0, true).await;
    assert_eq!(balance(&api, "kim").await, Ok((0, 1)));
    assert_eq!(test.raised_of::<pb::MileageCredited>().await.len(), 5);
}

#[tokio::test]
async fn a_cancelled_purchase_takes_its_points_back_once() {
    let (test, api) = mileage().await;
    approve(&test, "p1", "kim", 1500, false).await;
    approve(&test, "p2", "kim", 1000, false).await;
    let reversal = cancelled("p1", "kim", 1500, false);
    deliver(&test, &reversal).await.unwrap();
    deliver(&test, &reversal).await.unwrap();
    cancel(&test, "p1", "kim", 1500, false).await;
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
    let reversed: Vec<pb::MileageReversed> = test.raised_of().await;
    assert_eq!(reversed.len(), 1);
    assert_eq!(reversed[0].points, 1000);
}

#[tokio::test]
async fn a_reversal_delivered_before_its_credit_cancels_it() {
    let (test, api) = mileage().await;
    cancel(&test, "p1", "kim", 1500, false).await;
    approve(&test, "p1", "kim", 1500, false).await;
    assert_eq!(
        balance(&api, "kim").await,
        Err(Code::NotFound),
        "nothing was ever credited"
    );
    assert!(test.raised().await.is_empty());
    // The customer's next purchase earns as usual.
    approve(&test, "p2", "kim", 1500, false).await;
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
}

#[tokio::test]
async fn anonymous_and_unpaid_purchases_earn_nothing() {
    let (test, api) = mileage().await;
    approve(&test, "p1", "", 1500, false).await;
    cancel(&test, "p1", "", 1500, false).await;
    approve(&test, "p2", "kim", 0, false).await;
    assert_eq!(balance(&api, "kim").await, Err(Code::NotFound));
    assert!(test.raised().await.is_empty());
}

/// A free VOD whose credit a cancellation took back meanwhile (the two crossed in flight):
/// charged as a 5000-point debt, never a negative credit; its own cancellation refunds it.
#[tokio::test]
async fn a_free_vod_without_a_credit_is_a_debt_refunded_by_its_cancellation() {
    let (test, api) = mileage().await;
    approve(&test, "p1", "kim", 1000, false).await;
    approve(&test, "p2", "kim", 0, true).await;
    assert_eq!(balance(&api, "kim").await, Ok((-4000, 0)));
    cancel(&test, "p2", "kim", 0, true).await;
    assert_eq!(balance(&api, "kim").await, Ok((1000, 0)));
    assert!(
        test.raised_of::<pb::FreeVodCreditRevoked>()
            .await
            .is_empty()
    );
}

/// Five 1-won purchases earn 5 points, not a free VOD (issue 6 follow-up: credits minted
/// for 5 won).
#[tokio::test]
async fn a_purchase_earns_what_was_paid_so_cheap_purchases_mint_no_credit() {
    let (test, api) = mileage().await;
    for n in 1..=5 {
        approve(&test, &format!("p{n}"), "kim", 1, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((5, 0)));
    assert!(test.raised_of::<pb::FreeVodCreditIssued>().await.is_empty());
    // A normal price still earns the seed's 1000.
    approve(&test, "p6", "kim", 1_000_000, false).await;
    assert_eq!(balance(&api, "kim").await, Ok((1005, 0)));
}

/// Buy five, cancel five: the first reversal takes the unused credit back (and tells
/// purchase), the balance ends at zero with no credit.
#[tokio::test]
async fn cancelling_the_purchases_that_earned_a_credit_takes_it_back() {
    let (test, api) = mileage().await;
    for n in 1..=5 {
        approve(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((0, 1)));
    let first = cancelled("p1", "kim", 1000, false);
    deliver(&test, &first).await.unwrap();
    deliver(&test, &first).await.unwrap(); // replayed: nothing more
    assert_eq!(balance(&api, "kim").await, Ok((4000, 0)));
    for n in 2..=5 {
        cancel(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((0, 0)));
    let revoked: Vec<pb::FreeVodCreditRevoked> = test.raised_of().await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        (revoked[0].purchase_id.as_str(), revoked[0].points),
        ("p1", 4000)
    );
}

/// The credit was spent before the cancellations: the points go negative (a debt), and no
/// new credit is issued until the balance is paid back.
#[tokio::test]
async fn a_spent_credit_leaves_a_debt_paid_back_before_the_next_credit() {
    let (test, api) = mileage().await;
    for n in 1..=5 {
        approve(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    approve(&test, "free", "kim", 0, true).await;
    for n in 1..=5 {
        cancel(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((-5000, 0)));
    assert!(
        test.raised_of::<pb::FreeVodCreditRevoked>()
            .await
            .is_empty()
    );
    for n in 6..=14 {
        approve(&test, &format!("p{n}"), "kim", 1000, false).await;
    }
    assert_eq!(balance(&api, "kim").await, Ok((4000, 0)));
    assert_eq!(test.raised_of::<pb::FreeVodCreditIssued>().await.len(), 1);
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
