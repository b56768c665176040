//! Purchase's saga and policies in process, in milliseconds: a real SQLite store in a
//! temporary folder, payment and the catalog served in memory by small fakes (approve,
//! refuse, hang), the gRPC adapter called directly, events delivered as the consumer would.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::calls::saga::{SyncSaga, complete};
use mediamesh_mesh::testkit::{Fake, TestStore, delivered, peer_down, peer_in_memory, until};
use mediamesh_mesh::{CallPolicy, Peer};
use mediamesh_proto::vod::v1 as pb;
use pb::catalog_service_server::CatalogServiceServer;
use pb::payment_service_server::PaymentServiceServer;
use pb::purchase_service_server::PurchaseService;
use tonic::service::Routes;
use tonic::{Code, Request, Response, Status};

use crate::checkout::Checkout;
use crate::domain::{Purchase, Vod, Won};
use crate::grpc::PurchaseApi;
use crate::titles::Titles;

#[derive(Clone, Copy)]
enum Answer {
    Approve,
    /// Payment answers, not with an approval (a void recorded before the request).
    Void,
    /// Payment refuses the request (a key reused by another request).
    Refuse,
    /// Payment never answers: the call times out.
    Hang,
    /// Payment approves after 200 ms (longer than an impatient client waits).
    Slow,
}

/// Payment answering `answer`, keeping what it was asked.
fn payment(answer: Answer, asked: Arc<Mutex<Vec<pb::PayRequest>>>) -> Routes {
    let pay = move |r: pb::PayRequest| {
        asked.lock().unwrap().push(r.clone());
        async move {
            let status = match answer {
                Answer::Approve => "APPROVED",
                Answer::Void => "CANCELLED",
                Answer::Refuse => return Err(Status::already_exists("purchase_id is taken")),
                Answer::Hang => std::future::pending().await,
                Answer::Slow => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "APPROVED"
                }
            };
            Ok(pb::Payment {
                purchase_id: r.purchase_id,
                customer_id: r.customer_id,
                vod_id: r.vod_id,
                amount: r.amount,
                pay_status: status.into(),
                free_vod: r.free_vod,
            })
        }
    };
    Fake::<PaymentServiceServer<()>>::new()
        .unary("Pay", pay)
        .routes()
}

/// The catalog, knowing one title the replica has not heard of yet ("7"), counting the asks.
fn catalog(asked: Arc<AtomicUsize>) -> Routes {
    let get = move |r: pb::GetVodRequest| {
        asked.fetch_add(1, Ordering::SeqCst);
        async move {
            match r.vod_id.as_str() {
                "7" => Ok(pb::Vod {
                    vod_id: "7".into(),
                    vod_name: "Peninsula".into(),
                    price: 700,
                }),
                other => Err(Status::not_found(format!("vod {other:?} not found"))),
            }
        }
    };
    Fake::<CatalogServiceServer<()>>::new()
        .unary("GetVod", get)
        .routes()
}

/// Fast calls: a hang times out in 100 ms, no retry, one failure opens the breaker.
fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(100),
        retries: 0,
        failure_threshold: 1,
        open_for: Duration::from_secs(60),
        ..CallPolicy::default()
    }
}

struct Fixture {
    test: TestStore,
    api: PurchaseApi,
    checkout: Checkout,
    asked: Arc<Mutex<Vec<pb::PayRequest>>>,
}

async fn with_peers(
    payment: Peer,
    catalog: Peer,
    asked: Arc<Mutex<Vec<pb::PayRequest>>>,
) -> Fixture {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let checkout = Checkout::new(test.store.clone(), payment);
    let titles = Titles::new(test.store.clone(), catalog);
    let api = PurchaseApi::new(test.store.clone(), checkout.clone(), titles);
    Fixture {
        test,
        api,
        checkout,
        asked,
    }
}

/// Purchase with payment answering `answer` and the catalog down.
async fn purchase(answer: Answer) -> Fixture {
    purchase_with(answer, policy()).await
}

async fn purchase_with(answer: Answer, policy: CallPolicy) -> Fixture {
    let asked = Arc::default();
    let routes = payment(answer, Arc::clone(&asked));
    let payment = peer_in_memory("vod.payment", routes, policy.clone()).await;
    with_peers(payment, peer_down("vod.catalog", policy), asked).await
}

/// Payment answering in 200 ms, waited for up to a second.
async fn slow_payment() -> Fixture {
    let patient = CallPolicy {
        timeout: Duration::from_secs(1),
        ..policy()
    };
    purchase_with(Answer::Slow, patient).await
}

impl Fixture {
    /// Asks the gRPC adapter for purchase `id` of title `vod` by `customer`.
    async fn buy(&self, id: &str, vod: &str, customer: &str) -> Result<pb::Purchase, Status> {
        let request = pb::CreatePurchaseRequest {
            purchase_id: id.into(),
            vod_id: vod.into(),
            vod_name: String::new(),
            customer_id: customer.into(),
        };
        let response = self.api.create_purchase(Request::new(request)).await;
        response.map(Response::into_inner)
    }

    async fn get(&self, id: &str) -> Result<pb::Purchase, Status> {
        let request = pb::GetPurchaseRequest {
            purchase_id: id.into(),
        };
        let response = self.api.get_purchase(Request::new(request)).await;
        response.map(Response::into_inner)
    }

    async fn cancel(&self, id: &str) -> Result<pb::Purchase, Status> {
        let request = pb::CancelPurchaseRequest {
            purchase_id: id.into(),
        };
        let response = self.api.cancel_purchase(Request::new(request)).await;
        response.map(Response::into_inner)
    }
}

async fn status_of(f: &Fixture, id: &str) -> String {
    f.get(id).await.unwrap().order_status
}

/// Mileage issued `customer` a free-VOD credit.
async fn credit(f: &Fixture, customer: &str) {
    let issued = pb::FreeVodCreditIssued {
        customer_id: customer.into(),
        purchase_id: "earlier".into(),
        points: 0,
    };
    let event = delivered("vod.mileage", &issued, customer, 5);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
}

async fn credits(f: &Fixture, customer: &str) -> i64 {
    crate::store::credits(&f.test.store, customer)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_paid_purchase_is_placed_once() {
    let f = purchase(Answer::Approve).await;
    let paid = f.buy("p1", "2", "kim").await.unwrap();
    assert_eq!((paid.order_status.as_str(), paid.amount), ("PAID", 1500));
    let placed: Vec<pb::PurchasePlaced> = f.test.raised_of().await;
    assert_eq!(placed.len(), 1);
    assert_eq!(
        (placed[0].vod_name.as_str(), placed[0].amount),
        ("ToBusan", 1500)
    );
    let asked = f.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].purchase_id.as_str(), asked[0].amount),
        ("p1", 1500)
    );
}

#[tokio::test]
async fn a_duplicate_purchase_id_is_refused_without_paying_again() {
    let f = purchase(Answer::Approve).await;
    f.buy("p1", "2", "kim").await.unwrap();
    let again = f.buy("p1", "1", "lee").await.unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(
        again.message(),
        "purchase_id: purchase \"p1\" already exists"
    );
    assert_eq!(f.asked.lock().unwrap().len(), 1, "payment asked once");
    assert_eq!(f.test.raised_of::<pb::PurchasePlaced>().await.len(), 1);
    let kept = f.get("p1").await.unwrap();
    assert_eq!(
        (kept.customer_id.as_str(), kept.vod_id.as_str()),
        ("kim", "2")
    );
}

/// AIP-155: the same request again under its id answers the purchase as it is now (PAID or
/// FAILED), without paying again; another request under the id stays ALREADY_EXISTS.
#[tokio::test]
async fn a_retry_of_the_same_request_answers_the_purchase_as_it_is() {
    for (answer, status) in [(Answer::Approve, "PAID"), (Answer::Void, "FAILED")] {
        let f = purchase(answer).await;
        let _ = f.buy("k1", "2", "kim").await;
        let retried = f.buy("k1", "2", "kim").await.unwrap();
        assert_eq!(
            (retried.order_status.as_str(), retried.purchase_id.as_str()),
            (status, "k1")
        );
        assert_eq!(f.asked.lock().unwrap().len(), 1, "payment asked once");
        let other = f.buy("k1", "2", "lee").await.unwrap_err();
        assert_eq!(other.code(), Code::AlreadyExists);
        assert!(other.message().starts_with("purchase_id: "), "{other:?}");
    }
}

/// A client whose deadline (50 ms) runs out while payment takes 200 ms: its call is dropped,
/// the saga is not. The purchase is PAID at once (no sweep runs here) and the client's retry
/// with the same id answers it.
#[tokio::test]
async fn a_caller_that_goes_away_does_not_abandon_the_purchase() {
    // The saga's own deadline (1 s) outlasts payment's 200 ms; the client's does not.
    let f = slow_payment().await;
    let impatient = tokio::time::timeout(Duration::from_millis(50), f.buy("k1", "2", "kim")).await;
    assert!(
        impatient.is_err(),
        "the client gave up before payment answered"
    );
    until(Duration::from_secs(2), || async {
        (status_of(&f, "k1").await == "PAID").then_some(())
    })
    .await;
    assert_eq!(f.test.raised_of::<pb::PurchasePlaced>().await.len(), 1);
    let retried = f.buy("k1", "2", "kim").await.unwrap();
    assert_eq!(
        (retried.order_status.as_str(), retried.amount),
        ("PAID", 1500)
    );
    assert_eq!(f.asked.lock().unwrap().len(), 1, "paid once");
}

/// A copy of a purchase sent while the first is still being paid (a client's retry) answers
/// it PAID, as the first caller is answered, not PENDING; payment is asked once.
#[tokio::test]
async fn a_copy_sent_while_the_first_is_being_paid_answers_it_paid() {
    let f = slow_payment().await;
    let copy = async {
        until(Duration::from_secs(2), || async {
            (f.get("k1").await.ok()?.order_status == "PENDING").then_some(())
        })
        .await;
        f.buy("k1", "2", "kim").await
    };
    let (first, copy) = tokio::join!(f.buy("k1", "2", "kim"), copy);
    assert_eq!(first.unwrap().order_status, "PAID");
    assert_eq!(
        copy.unwrap().order_status,
        "PAID",
        "the copy waited for the payment"
    );
    assert_eq!(f.asked.lock().unwrap().len(), 1, "paid once");
}

#[tokio::test]
async fn a_refused_payment_fails_the_purchase() {
    for answer in [Answer::Void, Answer::Refuse] {
        let f = purchase(answer).await;
        let refused = f.buy("p1", "2", "kim").await.unwrap_err();
        let expected = match answer {
            Answer::Void => Code::FailedPrecondition,
            _ => Code::AlreadyExists,
        };
        assert_eq!(refused.code(), expected, "{}", refused.message());
        assert_eq!(status_of(&f, "p1").await, "FAILED");
        let failed: Vec<pb::PurchaseFailed> = f.test.raised_of().await;
        assert_eq!(failed.len(), 1);
        assert!(!failed[0].reason.is_empty());
        assert!(f.test.raised_of::<pb::PurchasePlaced>().await.is_empty());
    }
}

#[tokio::test]
async fn a_payment_that_times_out_fails_the_purchase_so_payment_cancels_it() {
    let f = purchase(Answer::Hang).await;
    let started = std::time::Instant::now();
    let late = f.buy("p1", "2", "kim").await.unwrap_err();
    assert_eq!(late.code(), Code::Unavailable, "{}", late.message());
    assert!(started.elapsed() < Duration::from_secs(2), "never a hang");
    assert_eq!(status_of(&f, "p1").await, "FAILED");
    let failed: Vec<pb::PurchaseFailed> = f.test.raised_of().await;
    assert_eq!(failed.len(), 1, "the failure lets payment void a late yes");
}

#[tokio::test]
async fn while_payment_is_down_the_breaker_answers_at_once_and_records_nothing() {
    let f = with_peers(
        peer_down("vod.payment", policy()),
        peer_down("vod.catalog", policy()),
        Arc::default(),
    )
    .await;
    let down = f.buy("p1", "2", "kim").await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable);
    assert_eq!(status_of(&f, "p1").await, "FAILED");
    // The answer says the purchase is not made, so coming back later means a new purchase:
    // the same request again can only answer it FAILED.
    assert!(
        down.message().contains("failed and nothing was charged")
            && down.message().contains("new purchase_id"),
        "{}",
        down.message()
    );
    assert!(!down.details().is_empty(), "RetryInfo: come back later");
    assert_eq!(
        f.buy("p1", "2", "kim").await.unwrap().order_status,
        "FAILED"
    );
    // One failure opened the breaker: the next purchase is refused before it is recorded.
    let open = f.buy("p2", "2", "kim").await.unwrap_err();
    assert_eq!(open.code(), Code::Unavailable);
    assert!(
        open.message().contains("circuit open"),
        "{}",
        open.message()
    );
    let missing = f.get("p2").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(f.test.raised_of::<pb::PurchaseFailed>().await.len(), 1);
}

#[tokio::test]
async fn a_free_vod_credit_pays_and_comes_back_when_the_payment_fails() {
    let f = purchase(Answer::Refuse).await;
    credit(&f, "kim").await;
    assert_eq!(credits(&f, "kim").await, 1);
    f.buy("p1", "2", "kim").await.unwrap_err();
    let asked = f.asked.lock().unwrap().clone();
    assert_eq!(
        (asked[0].free_vod, asked[0].amount),
        (true, 0),
        "the credit paid"
    );
    assert_eq!(status_of(&f, "p1").await, "FAILED");
    assert_eq!(credits(&f, "kim").await, 1, "the credit came back");
}

#[tokio::test]
async fn a_cancelled_free_purchase_returns_its_credit_once() {
    let f = purchase(Answer::Approve).await;
    credit(&f, "kim").await;
    let paid = f.buy("p1", "2", "kim").await.unwrap();
    assert_eq!((paid.free_vod, paid.amount), (true, 0));
    assert_eq!(credits(&f, "kim").await, 0);
    let cancelled = f.cancel("p1").await.unwrap();
    assert_eq!(cancelled.order_status, "CANCELLED");
    f.cancel("p1").await.unwrap(); // repeated: changes nothing
    assert_eq!(credits(&f, "kim").await, 1);
    let events: Vec<pb::PurchaseCancelled> = f.test.raised_of().await;
    assert_eq!(events.len(), 1);
    assert!(events[0].free_vod);
}

/// Mileage revoked `customer`'s credit (a cancellation took it back), as event `version`.
async fn revoke(f: &Fixture, customer: &str, version: i64) {
    let revoked = pb::FreeVodCreditRevoked {
        customer_id: customer.into(),
        purchase_id: "cancelled".into(),
        points: 4000,
    };
    let event = delivered("vod.mileage", &revoked, customer, version);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
}

/// A credit mileage took back is gone: the next purchase is paid. Revoking one already spent
/// leaves the balance at zero (mileage charges that free VOD as a debt).
#[tokio::test]
async fn a_revoked_credit_pays_for_nothing_and_never_goes_negative() {
    let f = purchase(Answer::Approve).await;
    credit(&f, "kim").await;
    revoke(&f, "kim", 6).await;
    revoke(&f, "kim", 6).await; // replayed: nothing more
    assert_eq!(credits(&f, "kim").await, 0);
    let paid = f.buy("p1", "2", "kim").await.unwrap();
    assert_eq!((paid.free_vod, paid.amount), (false, 1500));
    revoke(&f, "kim", 7).await;
    assert_eq!(credits(&f, "kim").await, 0);
}

#[tokio::test]
async fn anonymous_purchases_spend_no_credit_and_failed_ones_cannot_be_cancelled() {
    let f = purchase(Answer::Void).await;
    f.buy("p1", "1", "").await.unwrap_err();
    assert!(!f.asked.lock().unwrap()[0].free_vod);
    let refused = f.cancel("p1").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(f.test.raised_of::<pb::PurchaseCancelled>().await.is_empty());
}

/// Purchase `id` of title "1" by kim, recorded PENDING in 2020 by a process that then died.
async fn left_pending_by_a_crash(f: &Fixture, id: &str) -> Purchase {
    let vod = Vod {
        id: "1".into(),
        name: "Alive!".into(),
        price: Won::new(1000).unwrap(),
    };
    let at = "2020-01-01T00:00:00Z".into();
    let crashed = Purchase::place(id.into(), &vod, "kim".into(), at);
    let mut tx = f.test.store.begin().await.unwrap();
    assert!(crate::store::insert(tx.conn(), &crashed).await.unwrap());
    tx.commit().await.unwrap();
    crashed
}

/// A copy of a purchase a crash left pending long ago is answered at once as it stands: no
/// payment is coming for it (the sweep settles it), so waiting out a payment call (1.5 s
/// with this policy) would only hold the copy's permit.
#[tokio::test]
async fn a_copy_of_a_purchase_abandoned_long_ago_is_answered_at_once() {
    let f = slow_payment().await;
    left_pending_by_a_crash(&f, "p1").await;
    let asked = tokio::time::Instant::now();
    let copy = f.buy("p1", "1", "kim").await.unwrap();
    assert_eq!(copy.order_status, "PENDING");
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "waited {:?} for a payment that is not coming",
        asked.elapsed()
    );
    assert!(f.asked.lock().unwrap().is_empty(), "nothing paid by a copy");
}

#[tokio::test]
async fn a_purchase_left_pending_by_a_crash_is_settled_by_the_sweep() {
    let f = purchase(Answer::Approve).await;
    let crashed = left_pending_by_a_crash(&f, "p1").await;
    assert_eq!(status_of(&f, "p1").await, "PENDING");
    // What one round of the sweep does with it.
    let pending = f
        .checkout
        .pending_before("2021-01-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    for purchase in pending {
        complete(&f.checkout, purchase).await.unwrap();
    }
    assert_eq!(status_of(&f, "p1").await, "PAID");
    assert_eq!(f.test.raised_of::<pb::PurchasePlaced>().await.len(), 1);
    assert!(
        f.checkout
            .pending_before("2021-01-01T00:00:00Z")
            .await
            .unwrap()
            .is_empty()
    );
    // A settlement that comes second (the request, its payment unreachable) keeps the first.
    let late = Checkout::new(f.test.store.clone(), peer_down("vod.payment", policy()));
    let kept = complete(&late, crashed).await.unwrap();
    assert_eq!(kept.status().as_str(), "PAID");
    assert_eq!(f.test.raised().await.len(), 1);
}

#[tokio::test]
async fn a_title_missing_from_the_replica_is_asked_of_the_catalog() {
    let asked = Arc::default();
    let payment = payment(Answer::Approve, Arc::clone(&asked));
    let lookups = Arc::default();
    let catalog = catalog(Arc::clone(&lookups));
    let f = with_peers(
        peer_in_memory("vod.payment", payment, policy()).await,
        peer_in_memory("vod.catalog", catalog, policy()).await,
        asked,
    )
    .await;
    let paid = f.buy("p1", "7", "kim").await.unwrap();
    assert_eq!((paid.vod_name.as_str(), paid.amount), ("Peninsula", 700));
    f.buy("p2", "7", "kim").await.unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        1,
        "the answer was kept in the replica"
    );
    let absent = f.buy("p3", "8", "kim").await.unwrap_err();
    assert_eq!(absent.code(), Code::NotFound);
    // NOT_FOUND on a create names the field that refers to the missing resource.
    assert_eq!(absent.message(), "vod_id: vod \"8\" not found");
    assert_eq!(
        f.asked.lock().unwrap().len(),
        2,
        "nothing paid for an absent title"
    );
    let unknown = f.get("p9").await.unwrap_err();
    assert_eq!(
        (unknown.code(), unknown.message()),
        (Code::NotFound, "purchase \"p9\" not found")
    );
}

#[tokio::test]
async fn a_title_missing_while_the_catalog_is_down_is_unavailable_not_absent() {
    let f = purchase(Answer::Approve).await;
    let unknown = f.buy("p1", "7", "kim").await.unwrap_err();
    assert_eq!(unknown.code(), Code::Unavailable);
    assert!(f.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn registered_titles_reach_the_replica_once_whatever_the_redeliveries() {
    let f = purchase(Answer::Approve).await;
    let registered = pb::VodRegistered {
        vod_id: "9".into(),
        vod_name: "Train".into(),
        price: 900,
    };
    let event = delivered("vod.catalog", &registered, "9", 1);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    let paid = f.buy("p1", "9", "kim").await.unwrap();
    assert_eq!(paid.amount, 900);
    // A credit redelivered is one credit.
    let issued = pb::FreeVodCreditIssued {
        customer_id: "kim".into(),
        purchase_id: "p0".into(),
        points: 0,
    };
    let event = delivered("vod.mileage", &issued, "kim", 5);
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    f.test.deliver(&crate::policies(), &event).await.unwrap();
    assert_eq!(credits(&f, "kim").await, 1);
}

/// Keyset paging: a purchase that sorts before the cursor, written between two pages,
/// neither repeats a row on the next page (as an offset would) nor hides one.
#[tokio::test]
async fn pages_neither_repeat_nor_skip_under_concurrent_writes() {
    let store = TestStore::new(crate::store::MIGRATIONS).await;
    let vod = Vod {
        id: "2".into(),
        name: "ToBusan".into(),
        price: Won::new(1500).unwrap(),
    };
    let place = |id: &str, at: &str| Purchase::place(id.into(), &vod, "kim".into(), at.into());
    let write = |p: Purchase| {
        let store = store.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            assert!(crate::store::insert(tx.conn(), &p).await.unwrap());
            tx.commit().await.unwrap();
        }
    };
    for n in 1..=5 {
        write(place(
            &format!("p{n}"),
            &format!("2026-01-01T00:00:0{n}.000000Z"),
        ))
        .await;
    }
    let list = |token: String| {
        let store = store.store.clone();
        async move {
            let page = mediamesh_mesh::storage::page::Keyset::parse(2, &token, 2).unwrap();
            let mut rows = crate::store::list(&store, &page, "").await.unwrap();
            let next = page.finish(&mut rows, crate::store::list_key);
            let ids: Vec<String> = rows.iter().map(|p| p.id().to_owned()).collect();
            (ids, next)
        }
    };
    let (first, token) = list(String::new()).await;
    assert_eq!(first, ["p1", "p2"]);
    write(place("p0", "2026-01-01T00:00:00.000000Z")).await;
    let mut seen = first;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["p1", "p2", "p3", "p4", "p5"]);
}
