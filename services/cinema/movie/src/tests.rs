//! Movie's rules in process: a real SQLite store in a temporary folder, the gRPC adapter
//! called directly, review and reservation events delivered to the policies as the consumer
//! would (redelivered, duplicated, reordered).
use mediamesh_mesh::testkit::{TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Delivered, Handler, Peer, sql};
use mediamesh_proto::cinema::v1 as pb;
use pb::movie_service_server::MovieService;
use pb::reservation_service_server::{ReservationService, ReservationServiceServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::service::Routes;
use tonic::{Code, Request, Response, Status};

use crate::grpc::MovieApi;

/// What the fake seat ledger answers to `SetCapacity`.
#[derive(Clone, Copy)]
enum Ledger {
    Sets,
    /// This many seats are held: any capacity below is refused.
    Holds(i64),
    /// Answers once that the movie moved on, then sets.
    MovedOnce,
}

/// Reservation's seat ledger as movie sees it: answers `SetCapacity`, keeps what was asked.
#[derive(Clone)]
struct FakeLedger {
    mode: Arc<Mutex<Ledger>>,
    asked: Arc<Mutex<Vec<pb::SetCapacityRequest>>>,
}

#[tonic::async_trait]
impl ReservationService for FakeLedger {
    async fn set_capacity(
        &self,
        r: Request<pb::SetCapacityRequest>,
    ) -> Result<Response<pb::SetCapacityResponse>, Status> {
        let r = r.into_inner();
        self.asked.lock().unwrap().push(r.clone());
        let mode = *self.mode.lock().unwrap();
        match mode {
            Ledger::Holds(held) if i64::from(r.seats) < held => Err(Status::failed_precondition(
                format!("seats: {held} seats are held or confirmed; seats cannot go below that"),
            )),
            Ledger::MovedOnce => {
                *self.mode.lock().unwrap() = Ledger::Sets;
                Err(Status::aborted("reservation changed meanwhile; try again"))
            }
            _ => Ok(Response::new(pb::SetCapacityResponse {
                movie_id: r.movie_id,
                seats: r.seats,
                reserved: 0,
            })),
        }
    }

    async fn create_reservation(
        &self,
        _: Request<pb::CreateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        Err(Status::unimplemented("not used by movie"))
    }

    async fn get_reservation(
        &self,
        _: Request<pb::GetReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        Err(Status::unimplemented("not used by movie"))
    }

    async fn list_reservations(
        &self,
        _: Request<pb::ListReservationsRequest>,
    ) -> Result<Response<pb::ListReservationsResponse>, Status> {
        Err(Status::unimplemented("not used by movie"))
    }

    async fn update_reservation(
        &self,
        _: Request<pb::UpdateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        Err(Status::unimplemented("not used by movie"))
    }
}

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(500),
        retries: 0,
        failure_threshold: 1,
        open_for: Duration::from_secs(60),
        ..CallPolicy::default()
    }
}

struct World {
    test: TestStore,
    api: MovieApi,
    policies: Arc<dyn Handler>,
    ledger: FakeLedger,
}

impl World {
    async fn new() -> World {
        World::with(Ledger::Sets, None).await
    }

    /// A movie whose seat ledger answers `mode`, or is `down`.
    async fn with(mode: Ledger, down: Option<Peer>) -> World {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let ledger = FakeLedger {
            mode: Arc::new(Mutex::new(mode)),
            asked: Arc::default(),
        };
        let peer = match down {
            Some(peer) => peer,
            None => {
                let routes = Routes::new(ReservationServiceServer::new(ledger.clone()));
                peer_in_memory("cinema.reservation", routes, policy()).await
            }
        };
        let api = MovieApi::new(test.store.clone(), peer);
        World {
            test,
            api,
            policies: crate::policies(),
            ledger,
        }
    }

    fn asked(&self) -> Vec<(i32, i64)> {
        let asked = self.ledger.asked.lock().unwrap();
        asked.iter().map(|r| (r.seats, r.movie_version)).collect()
    }

    async fn create(&self, id: &str, seats: i32) -> Result<pb::Movie, Status> {
        let request = pb::CreateMovieRequest {
            movie_id: id.into(),
            title: "Title".into(),
            desc: String::new(),
            seats: Some(seats),
        };
        Ok(self
            .api
            .create_movie(Request::new(request))
            .await?
            .into_inner())
    }

    async fn seats(&self, id: &str, seats: i32) -> Result<pb::Movie, Status> {
        let request = pb::UpdateMovieRequest {
            movie_id: id.into(),
            seats: Some(seats),
            ..Default::default()
        };
        Ok(self
            .api
            .update_movie(Request::new(request))
            .await?
            .into_inner())
    }

    async fn get(&self, id: &str) -> Result<pb::Movie, Status> {
        let request = pb::GetMovieRequest {
            movie_id: id.into(),
        };
        Ok(self
            .api
            .get_movie(Request::new(request))
            .await?
            .into_inner())
    }

    async fn deliver(&self, event: &Delivered) {
        self.test.deliver(&self.policies, event).await.unwrap();
    }
}

fn confirmed(rsv: &str) -> Delivered {
    let event = pb::ReservationConfirmed {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
        amount: 10_000,
    };
    delivered("cinema.reservation", &event, rsv, 2)
}

fn cancelled(rsv: &str) -> Delivered {
    let event = pb::ReservationCancelled {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.reservation", &event, rsv, 4)
}

#[tokio::test]
async fn confirmed_reservations_count_once_each_and_hold_the_seats() {
    let w = World::new().await;
    w.create("m1", 3).await.unwrap();
    let r1 = confirmed("r1");
    w.deliver(&r1).await;
    w.deliver(&r1).await; // redelivered
    w.deliver(&confirmed("r1")).await; // the same confirmation as another event
    w.deliver(&confirmed("r2")).await;
    let below = w.seats("m1", 1).await.unwrap_err();
    assert_eq!(below.code(), Code::FailedPrecondition);
    assert!(
        below.message().contains("2 reservations"),
        "{}",
        below.message()
    );
    assert_eq!(
        w.seats("m1", 2).await.unwrap().seats,
        2,
        "down to the confirmed"
    );
    w.deliver(&cancelled("r1")).await;
    w.deliver(&cancelled("r1")).await;
    assert_eq!(
        w.seats("m1", 1).await.unwrap().seats,
        1,
        "one confirmed left"
    );
}

#[tokio::test]
async fn a_cancellation_delivered_before_its_confirmation_counts_nothing() {
    let w = World::new().await;
    w.create("m1", 2).await.unwrap();
    w.deliver(&cancelled("r1")).await;
    w.deliver(&confirmed("r1")).await; // late: its cancellation already arrived
    w.deliver(&confirmed("r2")).await;
    assert_eq!(w.seats("m1", 1).await.unwrap().seats, 1, "only r2 counts");
}

#[tokio::test]
async fn reviews_count_once_per_review_whatever_the_order() {
    let w = World::new().await;
    w.create("m1", 2).await.unwrap();
    let created = |id: &str| {
        let e = pb::ReviewCreated {
            review_id: id.into(),
            movie_id: "m1".into(),
        };
        delivered("cinema.review", &e, id, 1)
    };
    let deleted = |id: &str| {
        let e = pb::ReviewDeleted {
            review_id: id.into(),
            movie_id: "m1".into(),
        };
        delivered("cinema.review", &e, id, 2)
    };
    w.deliver(&created("v1")).await;
    w.deliver(&created("v1")).await;
    w.deliver(&created("v2")).await;
    w.deliver(&deleted("v3")).await;
    w.deliver(&created("v3")).await;
    assert_eq!(w.get("m1").await.unwrap().review_cnt, 2);
    w.deliver(&deleted("v1")).await;
    assert_eq!(w.get("m1").await.unwrap().review_cnt, 1);
}

#[tokio::test]
async fn every_event_carries_the_version_it_brings_the_movie_to() {
    let w = World::new().await;
    w.create("m1", 2).await.unwrap();
    w.seats("m1", 3).await.unwrap();
    w.seats("m1", 4).await.unwrap();
    let delete = pb::DeleteMovieRequest {
        movie_id: "m1".into(),
    };
    w.api.delete_movie(Request::new(delete)).await.unwrap();
    let versions: Vec<(String, i64)> = w
        .test
        .raised()
        .await
        .iter()
        .map(|d| (d.name().to_owned(), d.aggregate_version()))
        .collect();
    let expected = [
        ("MovieRegistered", 1),
        ("MovieUpdated", 2),
        ("MovieUpdated", 3),
        ("MovieDeleted", 4),
    ];
    assert_eq!(versions, expected.map(|(n, v)| (n.to_owned(), v)));
    let updated: Vec<pb::MovieUpdated> = w.test.raised_of().await;
    assert_eq!(updated.iter().map(|u| u.seats).collect::<Vec<_>>(), [3, 4]);
}

#[tokio::test]
async fn a_change_made_on_a_stale_version_is_not_saved() {
    let w = World::new().await;
    w.create("m1", 2).await.unwrap();
    let mut stale = crate::store::get(&w.test.store, "m1")
        .await
        .unwrap()
        .unwrap();
    w.seats("m1", 5).await.unwrap(); // someone else changed it meanwhile (version 2)
    stale.change(None, None, Some(3)).unwrap();
    let mut tx = w.test.store.begin().await.unwrap();
    let saved = crate::store::update(&mut tx, &stale).await.unwrap();
    tx.commit().await.unwrap();
    assert!(
        !saved,
        "a change made on version 1 is not written over version 2"
    );
    assert_eq!(w.get("m1").await.unwrap().seats, 5);
}

#[tokio::test]
async fn ids_of_deleted_movies_are_retired() {
    let w = World::new().await;
    w.create("m1", 2).await.unwrap();
    let delete = || {
        Request::new(pb::DeleteMovieRequest {
            movie_id: "m1".into(),
        })
    };
    w.api.delete_movie(delete()).await.unwrap();
    assert_eq!(w.get("m1").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        w.api.delete_movie(delete()).await.unwrap_err().code(),
        Code::NotFound
    );
    let again = w.create("m1", 2).await.unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert!(again.message().starts_with("movie_id"));
    assert_eq!(w.test.raised_of::<pb::MovieRegistered>().await.len(), 1);
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let w = World::new().await;
    for (seats, field) in [(0, "seats"), (100_001, "seats"), (-5, "seats")] {
        let status = w.create("m1", seats).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let nameless = pb::CreateMovieRequest {
        movie_id: "m1".into(),
        ..Default::default()
    };
    let status = w
        .api
        .create_movie(Request::new(nameless))
        .await
        .unwrap_err();
    assert!(
        status.message().starts_with("title"),
        "{}",
        status.message()
    );
    let bad_id = w.create("a b", 1).await.unwrap_err();
    assert!(bad_id.message().starts_with("movie_id"));
    assert!(
        w.test.raised().await.is_empty(),
        "nothing refused is recorded"
    );
}

/// Movie's confirmed count lags (it comes from events): the seat ledger, asked first, is
/// what refuses seats below the reservations held, naming `seats`; nothing changes.
#[tokio::test]
async fn lowering_seats_asks_the_seat_ledger_first() {
    let w = World::with(Ledger::Holds(5), None).await;
    w.create("m1", 5).await.unwrap();
    let below = w.seats("m1", 1).await.unwrap_err();
    assert_eq!(below.code(), Code::FailedPrecondition, "{below:?}");
    assert!(below.message().starts_with("seats: 5 seats"), "{below:?}");
    assert_eq!(w.get("m1").await.unwrap().seats, 5, "unchanged");
    assert_eq!(
        w.asked(),
        [(1, 2)],
        "asked at the version the change brings"
    );
    assert_eq!(w.test.raised_of::<pb::MovieUpdated>().await.len(), 0);
    // Down to the held seats is fine; raising needs no ask.
    assert_eq!(w.seats("m1", 5).await.unwrap().seats, 5);
    assert_eq!(w.seats("m1", 8).await.unwrap().seats, 8);
    assert_eq!(w.seats("m1", 6).await.unwrap().seats, 6);
    assert_eq!(w.asked(), [(1, 2), (6, 4)]);
    let updated: Vec<pb::MovieUpdated> = w.test.raised_of().await;
    let seats: Vec<i32> = updated.iter().map(|u| u.seats).collect();
    assert_eq!(seats, [5, 8, 6]);
}

/// An unreachable seat ledger refuses the lowering (UNAVAILABLE with RetryInfo), never
/// lowers blind; a raise still goes through.
#[tokio::test]
async fn an_unreachable_seat_ledger_never_lets_seats_go_down() {
    let down = peer_down("cinema.reservation", policy());
    let w = World::with(Ledger::Sets, Some(down)).await;
    w.create("m1", 5).await.unwrap();
    let refused = w.seats("m1", 1).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        !refused.details().is_empty(),
        "RetryInfo attached: {refused:?}"
    );
    assert_eq!(w.get("m1").await.unwrap().seats, 5, "unchanged");
    assert_eq!(w.seats("m1", 7).await.unwrap().seats, 7);
}

/// A ledger that heard of a later change answers ABORTED: movie loads again and asks at
/// the new version.
#[tokio::test]
async fn a_ledger_ahead_of_the_loaded_movie_is_asked_again() {
    let w = World::with(Ledger::MovedOnce, None).await;
    w.create("m1", 5).await.unwrap();
    assert_eq!(w.seats("m1", 2).await.unwrap().seats, 2);
    assert_eq!(w.asked(), [(2, 2), (2, 2)]);
}

/// Keyset paging: a movie registered before the cursor, written between two pages, neither
/// repeats a row on the later pages (as an offset would) nor hides one; one registered after
/// it is still listed.
#[tokio::test]
async fn a_page_token_survives_rows_inserted_before_it() {
    let w = World::new().await;
    let write = |id: &str, at: &str| {
        let (store, id, at) = (w.test.store.clone(), id.to_owned(), at.to_owned());
        async move {
            sql::query(
                "INSERT INTO movies (movie_id, title, descr, seats, review_cnt, confirmed, \
                 version, registered_at, deleted) VALUES ($1, $1, 'd', 10, 0, 0, 1, $2, 0)",
            )
            .bind(id)
            .bind(at)
            .execute(store.writer())
            .await
            .unwrap();
        }
    };
    for n in 1..=5 {
        write(&format!("m{n}"), &format!("2026-01-01T00:00:0{n}.000000Z")).await;
    }
    let list = |token: String| {
        let request = Request::new(pb::ListMoviesRequest {
            page_size: 2,
            page_token: token,
        });
        let api = &w.api;
        async move {
            let r = api.list_movies(request).await.unwrap().into_inner();
            let ids: Vec<String> = r.movies.into_iter().map(|m| m.movie_id).collect();
            (ids, r.next_page_token)
        }
    };
    let (mut seen, token) = list(String::new()).await;
    assert_eq!(seen, ["m1", "m2"]);
    write("m0", "2026-01-01T00:00:00.000000Z").await;
    write("m9", "2026-01-01T00:00:09.000000Z").await;
    seen.extend(mediamesh_mesh::testkit::pages_from(token, list).await);
    assert_eq!(seen, ["m1", "m2", "m3", "m4", "m5", "m9"]);
}
