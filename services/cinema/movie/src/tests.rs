//! Movie's rules in process: a real SQLite store in a temporary folder, the gRPC adapter
//! called directly, review and reservation events delivered to the policies as the consumer
//! would (redelivered, duplicated, reordered).
use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::cinema::v1 as pb;
use pb::movie_service_server::MovieService;
use std::sync::Arc;
use tonic::{Code, Request, Status};

use crate::grpc::MovieApi;

struct World {
    test: TestStore,
    api: MovieApi,
    policies: Arc<dyn Handler>,
}

impl World {
    async fn new() -> World {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let api = MovieApi::new(test.store.clone());
        World {
            test,
            api,
            policies: crate::policies(),
        }
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
