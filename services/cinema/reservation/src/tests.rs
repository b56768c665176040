//! Reservation's saga and policies in process: a real SQLite store in a temporary folder,
//! payment and movie served in memory by small fakes, the gRPC adapter called directly and
//! events delivered to the policies as the consumer would.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::calls::saga::{SyncSaga, complete};
use mediamesh_mesh::testkit::{TestStore, delivered, peer_down, peer_in_memory, until};
use mediamesh_mesh::{CallPolicy, Delivered, Peer};
use mediamesh_proto::cinema::v1 as pb;
use pb::movie_service_server::{MovieService, MovieServiceServer};
use pb::payment_service_server::{PaymentService, PaymentServiceServer};
use pb::reservation_service_server::ReservationService;
use tonic::service::Routes;
use tonic::{Code, Request, Response, Status};

use crate::booking::Booking;
use crate::grpc::ReservationApi;

#[derive(Clone, Copy, PartialEq)]
enum Pays {
    Approves,
    /// Answers the void a failed reservation left (a late `Pay`).
    Voided,
    Refuses,
    Hangs,
    /// Approves after 200 ms: longer than a hurried client waits.
    Slow,
}

#[derive(Clone)]
struct FakePayment {
    mode: Arc<Mutex<Pays>>,
    calls: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl PaymentService for FakePayment {
    async fn pay(&self, r: Request<pb::PayRequest>) -> Result<Response<pb::Payment>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let r = r.into_inner();
        let mode = *self.mode.lock().unwrap();
        let status = match mode {
            Pays::Approves => "APPROVED",
            Pays::Voided => "CANCELLED",
            Pays::Refuses => return Err(Status::failed_precondition("card declined")),
            Pays::Hangs => std::future::pending().await,
            Pays::Slow => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "APPROVED"
            }
        };
        Ok(Response::new(pb::Payment {
            rsv_id: r.rsv_id,
            movie_id: r.movie_id,
            customer_id: r.customer_id,
            amount: r.amount,
            pay_status: status.into(),
        }))
    }

    async fn get_payment(
        &self,
        _: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

/// Movie knows one movie, `m-new`, with one seat: registered too recently for the ledger.
struct FakeMovie;

#[tonic::async_trait]
impl MovieService for FakeMovie {
    async fn get_movie(
        &self,
        r: Request<pb::GetMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        match r.into_inner().movie_id.as_str() {
            "m-new" => Ok(Response::new(pb::Movie {
                movie_id: "m-new".into(),
                title: "New".into(),
                seats: 1,
                ..Default::default()
            })),
            other => Err(Status::not_found(format!("movie {other:?} not found"))),
        }
    }

    async fn list_movies(
        &self,
        _: Request<pb::ListMoviesRequest>,
    ) -> Result<Response<pb::ListMoviesResponse>, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn create_movie(
        &self,
        _: Request<pb::CreateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn update_movie(
        &self,
        _: Request<pb::UpdateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn delete_movie(
        &self,
        _: Request<pb::DeleteMovieRequest>,
    ) -> Result<Response<pb::DeleteMovieResponse>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

fn policy(timeout: Duration) -> CallPolicy {
    CallPolicy {
        timeout,
        retries: 0,
        failure_threshold: 1,
        open_for: Duration::from_secs(60),
        max_in_flight: 16,
    }
}

struct World {
    test: TestStore,
    api: ReservationApi,
    booking: Booking,
    payment: FakePayment,
}

impl World {
    async fn with_payment(payment: Peer, fake: FakePayment) -> World {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let movie_routes = Routes::new(MovieServiceServer::new(FakeMovie));
        let movie =
            peer_in_memory("cinema.movie", movie_routes, policy(Duration::from_secs(5))).await;
        let booking = Booking::new(test.store.clone(), payment, movie);
        let api = ReservationApi::new(test.store.clone(), booking.clone());
        World {
            test,
            api,
            booking,
            payment: fake,
        }
    }

    async fn new(mode: Pays, timeout: Duration) -> World {
        let fake = FakePayment {
            mode: Arc::new(Mutex::new(mode)),
            calls: Arc::default(),
        };
        let routes = Routes::new(PaymentServiceServer::new(fake.clone()));
        let peer = peer_in_memory("cinema.payment", routes, policy(timeout)).await;
        World::with_payment(peer, fake).await
    }

    /// The ledger hears of movie `id` with `seats` seats, at movie version `version`.
    async fn movie(&self, id: &str, seats: i32, version: i64) {
        let event = pb::MovieRegistered {
            movie_id: id.into(),
            title: id.into(),
            seats,
        };
        self.deliver(&delivered("cinema.movie", &event, id, version))
            .await;
    }

    async fn deliver(&self, event: &Delivered) {
        self.test.deliver(&crate::policies(), event).await.unwrap();
    }

    async fn reserve(&self, rsv: &str, movie: &str) -> Result<pb::Reservation, Status> {
        let request = pb::CreateReservationRequest {
            rsv_id: rsv.into(),
            movie_id: movie.into(),
            customer_id: "kim".into(),
        };
        let answer = self.api.create_reservation(Request::new(request)).await;
        answer.map(Response::into_inner)
    }

    async fn get(&self, rsv: &str) -> Result<pb::Reservation, Status> {
        let request = pb::GetReservationRequest { rsv_id: rsv.into() };
        let answer = self.api.get_reservation(Request::new(request)).await;
        answer.map(Response::into_inner)
    }

    fn pays(&self, mode: Pays) {
        *self.payment.mode.lock().unwrap() = mode;
    }
}

const QUICK: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_paid_reservation_is_confirmed() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 10, 1).await;
    let r = w.reserve("r1", "m1").await.unwrap();
    assert_eq!((r.status.as_str(), r.amount), ("CONFIRMED", 10_000));
    let confirmed: Vec<pb::ReservationConfirmed> = w.test.raised_of().await;
    assert_eq!(confirmed.len(), 1);
    assert_eq!(
        (confirmed[0].rsv_id.as_str(), confirmed[0].amount),
        ("r1", 10_000)
    );
    assert_eq!(w.get("r1").await.unwrap().status, "CONFIRMED");
}

/// Every failed payment fails the reservation, raises `ReservationFailed` (so a payment that
/// went through is cancelled) and gives the seat back: the movie's only seat is free again
/// for the next case.
#[tokio::test]
async fn a_refused_or_timed_out_payment_fails_and_returns_the_seat() {
    let w = World::new(Pays::Refuses, QUICK).await;
    w.movie("m1", 1, 1).await;
    for (rsv, mode, codes) in [
        ("r1", Pays::Refuses, &[Code::FailedPrecondition][..]),
        ("r2", Pays::Voided, &[Code::FailedPrecondition]),
        // The caller's deadline, or the client stack's own timeout.
        (
            "r3",
            Pays::Hangs,
            &[Code::DeadlineExceeded, Code::Unavailable],
        ),
    ] {
        w.pays(mode);
        let status = w.reserve(rsv, "m1").await.unwrap_err();
        assert!(codes.contains(&status.code()), "{rsv}: {status:?}");
        assert_eq!(w.get(rsv).await.unwrap().status, "FAILED");
    }
    let failed: Vec<pb::ReservationFailed> = w.test.raised_of().await;
    let ids: Vec<&str> = failed.iter().map(|f| f.rsv_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    assert!(
        w.test
            .raised_of::<pb::ReservationConfirmed>()
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_seat_of_a_failed_reservation_is_reserved_again() {
    let w = World::new(Pays::Refuses, Duration::from_secs(5)).await;
    w.movie("m1", 1, 1).await;
    w.reserve("r1", "m1").await.unwrap_err();
    w.pays(Pays::Approves);
    let r = w.reserve("r2", "m1").await.unwrap();
    assert_eq!(r.status, "CONFIRMED", "the only seat came back");
}

#[tokio::test]
async fn a_full_movie_refuses_and_records_nothing() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 1, 1).await;
    w.reserve("r1", "m1").await.unwrap();
    let full = w.reserve("r2", "m1").await.unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition);
    assert_eq!(w.get("r2").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        w.payment.calls.load(Ordering::SeqCst),
        1,
        "r2 was never paid"
    );
}

/// AIP-155: the same request again under its id answers the reservation as it is; another
/// request under that id is refused, naming the field. Neither holds a seat or pays again.
#[tokio::test]
async fn a_retried_rsv_id_answers_the_reservation_and_holds_no_second_seat() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 2, 1).await;
    w.movie("m2", 2, 1).await;
    let first = w.reserve("r1", "m1").await.unwrap();
    let retry = w.reserve("r1", "m1").await.unwrap();
    assert_eq!(retry, first, "the same reservation, as it is");
    let other = w.reserve("r1", "m2").await.unwrap_err();
    assert_eq!(other.code(), Code::AlreadyExists);
    assert!(other.message().starts_with("rsv_id: "), "{other:?}");
    assert_eq!(w.payment.calls.load(Ordering::SeqCst), 1);
    w.reserve("r2", "m1")
        .await
        .expect("the second seat is still free");
    // A failed reservation retried is told it failed, and is not paid again.
    w.pays(Pays::Refuses);
    w.reserve("r3", "m2").await.unwrap_err();
    let failed = w.reserve("r3", "m2").await.unwrap_err();
    assert_eq!(failed.code(), Code::FailedPrecondition, "{failed:?}");
    assert_eq!(w.payment.calls.load(Ordering::SeqCst), 3);
}

/// A client that gives up (deadline 50 ms, payment answers in 200 ms) drops its request;
/// the saga still runs to its end at once (not 10-15 s later by the recovery sweep, which
/// does not run here), and the client's retry under the same id is answered the outcome.
#[tokio::test]
async fn a_caller_that_gives_up_leaves_no_pending_reservation() {
    let w = World::new(Pays::Slow, Duration::from_secs(2)).await;
    w.movie("m1", 1, 1).await;
    let hurried = tokio::time::timeout(Duration::from_millis(50), w.reserve("r1", "m1")).await;
    assert!(hurried.is_err(), "the client gave up first");
    let settled = until(Duration::from_secs(2), || async {
        let r = w.get("r1").await.unwrap();
        (r.status != "PENDING").then_some(r)
    })
    .await;
    assert_eq!(settled.status, "CONFIRMED");
    let retry = w.reserve("r1", "m1").await.unwrap();
    assert_eq!(retry, settled, "the retry is answered the reservation");
    assert_eq!(w.payment.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        w.test.raised_of::<pb::ReservationConfirmed>().await.len(),
        1
    );
}

/// A copy sent while the first waits for payment (a client's retry) is answered what the
/// first comes to, CONFIRMED, not PENDING; one seat held, payment asked once.
#[tokio::test]
async fn a_copy_sent_while_the_first_is_being_paid_answers_it_confirmed() {
    let w = World::new(Pays::Slow, Duration::from_secs(2)).await;
    w.movie("m1", 1, 1).await;
    let copy = async {
        until(Duration::from_secs(2), || async {
            (w.get("r1").await.ok()?.status == "PENDING").then_some(())
        })
        .await;
        w.reserve("r1", "m1").await
    };
    let (first, copy) = tokio::join!(w.reserve("r1", "m1"), copy);
    assert_eq!(first.unwrap().status, "CONFIRMED");
    assert_eq!(
        copy.unwrap().status,
        "CONFIRMED",
        "the copy waited for payment"
    );
    assert_eq!(w.payment.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_open_breaker_answers_unavailable_before_holding_anything() {
    let fake = FakePayment {
        mode: Arc::new(Mutex::new(Pays::Approves)),
        calls: Arc::default(),
    };
    let w = World::with_payment(peer_down("cinema.payment", policy(QUICK)), fake).await;
    w.movie("m1", 1, 1).await;
    let down = w.reserve("r1", "m1").await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable);
    assert_eq!(
        w.get("r1").await.unwrap().status,
        "FAILED",
        "its seat went back"
    );
    // Said as it is: coming back later means a new rsv_id (this one can only answer FAILED).
    assert!(
        down.message().contains("reserve again under a new rsv_id"),
        "{}",
        down.message()
    );
    assert!(!down.details().is_empty(), "RetryInfo: come back later");
    let open = w.reserve("r2", "m1").await.unwrap_err();
    assert_eq!(open.code(), Code::Unavailable);
    assert!(
        open.message().contains("circuit open"),
        "{}",
        open.message()
    );
    assert_eq!(w.get("r2").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(w.test.raised_of::<pb::ReservationFailed>().await.len(), 1);
}

#[tokio::test]
async fn a_movie_the_ledger_has_not_heard_of_is_asked_of_movie() {
    let w = World::new(Pays::Approves, QUICK).await;
    let r = w.reserve("r1", "m-new").await.unwrap();
    assert_eq!(r.status, "CONFIRMED");
    let full = w.reserve("r2", "m-new").await.unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition, "movie said one seat");
    let unknown = w.reserve("r3", "nope").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(unknown.message(), "movie_id: movie \"nope\" not found");
}

#[tokio::test]
async fn a_reservation_left_pending_by_a_crash_is_settled_by_the_sweep() {
    let w = World::new(Pays::Hangs, Duration::from_secs(30)).await;
    w.movie("m1", 1, 1).await;
    // The request dies between recording and settling (the process stopped).
    let cut = tokio::time::timeout(Duration::from_millis(100), w.reserve("r1", "m1")).await;
    assert!(cut.is_err(), "the payment call was still in flight");
    assert_eq!(w.get("r1").await.unwrap().status, "PENDING");
    w.pays(Pays::Approves);
    let pending = w.booking.pending_before("9999").await.unwrap();
    assert_eq!(pending.len(), 1);
    for r in pending {
        complete(&w.booking, r).await.unwrap();
    }
    assert_eq!(w.get("r1").await.unwrap().status, "CONFIRMED");
    assert!(w.booking.pending_before("9999").await.unwrap().is_empty());
}

fn payment_cancelled(rsv: &str) -> Delivered {
    let event = pb::PaymentCancelled {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.payment", &event, rsv, 2)
}

#[tokio::test]
async fn a_cancelled_payment_closes_its_reservation_once_and_frees_the_seat() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 1, 1).await;
    w.reserve("r1", "m1").await.unwrap();
    let cancel = pb::UpdateReservationRequest {
        rsv_id: "r1".into(),
        status: "cancel".into(),
    };
    let cancelling = w
        .api
        .update_reservation(Request::new(cancel.clone()))
        .await
        .unwrap();
    assert_eq!(cancelling.into_inner().status, "CANCELLING");
    w.api
        .update_reservation(Request::new(cancel))
        .await
        .unwrap(); // asked twice: one request
    assert_eq!(
        w.test
            .raised_of::<pb::ReservationCancelRequested>()
            .await
            .len(),
        1
    );
    let event = payment_cancelled("r1");
    w.deliver(&event).await;
    w.deliver(&event).await; // redelivered
    w.deliver(&payment_cancelled("r1")).await; // the same change as another event
    assert_eq!(w.get("r1").await.unwrap().status, "CANCELLED");
    assert_eq!(
        w.test.raised_of::<pb::ReservationCancelled>().await.len(),
        1
    );
    w.reserve("r2", "m1")
        .await
        .expect("the seat came back once");
    let full = w.reserve("r3", "m1").await.unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition, "and only once");
}

#[tokio::test]
async fn a_failed_reservations_cancelled_payment_frees_nothing_more() {
    let w = World::new(Pays::Refuses, QUICK).await;
    w.movie("m1", 1, 1).await;
    w.reserve("r1", "m1").await.unwrap_err();
    w.deliver(&payment_cancelled("r1")).await;
    w.deliver(&payment_cancelled("unknown")).await;
    assert_eq!(w.get("r1").await.unwrap().status, "FAILED");
    w.pays(Pays::Approves);
    w.reserve("r2", "m1").await.unwrap();
    assert_eq!(
        w.reserve("r3", "m1").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
}

#[tokio::test]
async fn movie_events_apply_in_version_order_whatever_the_delivery_order() {
    let w = World::new(Pays::Approves, QUICK).await;
    let updated = pb::MovieUpdated {
        movie_id: "m1".into(),
        title: "m1".into(),
        seats: 2,
    };
    w.deliver(&delivered("cinema.movie", &updated, "m1", 2))
        .await;
    w.movie("m1", 1, 1).await; // the registration, delivered late: stale
    w.reserve("r1", "m1").await.unwrap();
    w.reserve("r2", "m1")
        .await
        .expect("version 2 has two seats");
    let deleted = pb::MovieDeleted {
        movie_id: "m2".into(),
    };
    w.deliver(&delivered("cinema.movie", &deleted, "m2", 2))
        .await;
    w.movie("m2", 5, 1).await; // a registration after its deletion cannot revive it
    assert_eq!(
        w.reserve("r3", "m2").await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let w = World::new(Pays::Approves, QUICK).await;
    let bad = w.reserve("a b", "m1").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("rsv_id"), "{}", bad.message());
    let status = pb::UpdateReservationRequest {
        rsv_id: "r1".into(),
        status: "confirmed".into(),
    };
    let bad = w
        .api
        .update_reservation(Request::new(status))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().starts_with("status"), "{}", bad.message());
    assert!(w.test.raised().await.is_empty());
}

fn capacity(movie: &str, seats: i32, version: i64) -> Request<pb::SetCapacityRequest> {
    Request::new(pb::SetCapacityRequest {
        movie_id: movie.into(),
        seats,
        movie_version: version,
    })
}

/// The seat ledger is the authority on lowering seats: below the seats held (pending or
/// confirmed) is refused naming `seats`; a version older than the ledger's is ABORTED (movie
/// decides again); a deleted movie is NOT_FOUND; the capacity set holds against the stale
/// events of earlier versions, and the change's own event (same version) still applies.
#[tokio::test]
async fn set_capacity_refuses_below_the_seats_held() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 5, 1).await;
    w.reserve("r1", "m1").await.unwrap();
    w.reserve("r2", "m1").await.unwrap();
    let below = w.api.set_capacity(capacity("m1", 1, 2)).await.unwrap_err();
    assert_eq!(below.code(), Code::FailedPrecondition);
    assert!(below.message().starts_with("seats: 2 seats"), "{below:?}");
    let set = w.api.set_capacity(capacity("m1", 2, 2)).await.unwrap();
    assert_eq!(set.into_inner().reserved, 2);
    assert_eq!(
        w.reserve("r3", "m1").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    // A stale registration (version 1) cannot raise it back; an older ask is ABORTED.
    w.movie("m1", 5, 1).await;
    assert_eq!(
        w.reserve("r4", "m1").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    let stale = w.api.set_capacity(capacity("m1", 3, 1)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    // The change's own event, at the version the capacity was set at, is movie's word.
    let updated = pb::MovieUpdated {
        movie_id: "m1".into(),
        title: "m1".into(),
        seats: 3,
    };
    w.deliver(&delivered("cinema.movie", &updated, "m1", 2))
        .await;
    w.reserve("r5", "m1").await.expect("the third seat");
    let deleted = pb::MovieDeleted {
        movie_id: "m1".into(),
    };
    w.deliver(&delivered("cinema.movie", &deleted, "m1", 3))
        .await;
    let gone = w.api.set_capacity(capacity("m1", 9, 4)).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert!(gone.message().starts_with("movie_id: "), "{gone:?}");
    // A movie the ledger has not heard of holds nothing: recorded as given.
    w.api.set_capacity(capacity("m-new", 1, 2)).await.unwrap();
    w.movie("m-new", 5, 1).await;
    w.reserve("r6", "m-new").await.unwrap();
    assert_eq!(
        w.reserve("r7", "m-new").await.unwrap_err().code(),
        Code::FailedPrecondition
    );
}

/// Reservations and a lowering at once, many rounds: whichever comes first, the ledger
/// never ends with more reservations confirmed than its capacity, and the lowering is
/// answered yes exactly when the capacity went down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowering_racing_reservations_never_leaves_more_confirmed_than_seats() {
    let w = Arc::new(World::new(Pays::Approves, Duration::from_secs(2)).await);
    for round in 0..20 {
        let movie = format!("m{round}");
        w.movie(&movie, 5, 1).await;
        let reserves = (0..5).map(|i| {
            let (w, movie) = (w.clone(), movie.clone());
            tokio::spawn(async move { w.reserve(&format!("{movie}-r{i}"), &movie).await })
        });
        let reserves: Vec<_> = reserves.collect();
        let lowered = w.api.set_capacity(capacity(&movie, 1, 2)).await;
        let mut confirmed = 0;
        for r in reserves {
            if r.await.unwrap().is_ok() {
                confirmed += 1;
            }
        }
        match lowered {
            Ok(_) => assert!(
                confirmed <= 1,
                "round {round}: {confirmed} confirmed of 1 seat"
            ),
            Err(refused) => {
                assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
                assert!(
                    confirmed >= 2,
                    "round {round}: refused with {confirmed} confirmed"
                );
            }
        }
    }
}

/// Every reservation id from the first page to the last, `size` a page, of `movie` ("": all).
async fn paged(w: &World, movie: &str, size: i32) -> Vec<String> {
    let list = |token: String| {
        let request = Request::new(pb::ListReservationsRequest {
            page_size: size,
            page_token: token,
            movie_id: movie.into(),
        });
        let api = &w.api;
        async move {
            let page = api.list_reservations(request).await.unwrap().into_inner();
            let ids: Vec<String> = page.reservations.into_iter().map(|r| r.rsv_id).collect();
            (ids, page.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn a_movies_reservations_and_all_page_in_creation_order() {
    let w = World::new(Pays::Approves, QUICK).await;
    w.movie("m1", 10, 1).await;
    w.movie("m2", 10, 1).await;
    for (rsv, movie) in [("r1", "m1"), ("r2", "m2"), ("r3", "m1"), ("r4", "m1")] {
        w.reserve(rsv, movie).await.unwrap();
    }
    assert_eq!(paged(&w, "m1", 2).await, ["r1", "r3", "r4"]);
    assert_eq!(paged(&w, "m2", 1).await, ["r2"]);
    assert_eq!(paged(&w, "", 3).await, ["r1", "r2", "r3", "r4"]);
}

/// A movie's reservations are sought in its index, in list order: not a walk of every
/// reservation (which `($n = '' OR movie_id = $n)` made of the listing) nor a sort.
#[tokio::test]
async fn a_movies_reservations_are_sought_in_its_index() {
    let w = World::new(Pays::Approves, QUICK).await;
    let (sql, _) = crate::store::list_statement("m1");
    w.test
        .assert_seeks(&sql, &["INDEX reservations_by_movie_key (movie_id=?"])
        .await;
}
