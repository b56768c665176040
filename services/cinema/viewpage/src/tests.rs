//! The viewpage's projection in process: a real SQLite store in a temporary folder, events
//! delivered as the consumer would (replayed, duplicated, reordered, stale), the gRPC adapter
//! called directly.
use std::sync::Arc;

use mediamesh_mesh::testkit::{TestStore, delivered};
use mediamesh_mesh::{Delivered, Handler};
use mediamesh_proto::cinema::v1 as pb;
use pb::viewpage_service_server::ViewpageService;
use tonic::{Code, Request};

use crate::grpc::ViewpageApi;

struct Viewpage {
    test: TestStore,
    api: ViewpageApi,
    policies: Arc<dyn Handler>,
}

impl Viewpage {
    async fn new() -> Viewpage {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let api = ViewpageApi::new(test.store.clone());
        Viewpage {
            test,
            api,
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, events: &[&Delivered]) {
        for event in events {
            self.test.deliver(&self.policies, event).await.unwrap();
        }
    }

    async fn pages(&self) -> Vec<pb::Viewpage> {
        let request = Request::new(pb::ListViewpagesRequest {
            page_size: 100,
            ..Default::default()
        });
        let list = self.api.list_viewpages(request).await.unwrap();
        list.into_inner().viewpages
    }

    async fn page(&self, movie: &str) -> Option<pb::Viewpage> {
        self.pages().await.into_iter().find(|p| p.movie_id == movie)
    }
}

fn registered(movie: &str, title: &str, version: i64) -> Delivered {
    let event = pb::MovieRegistered {
        movie_id: movie.into(),
        title: title.into(),
        seats: 2,
    };
    delivered("cinema.movie", &event, movie, version)
}

fn updated(movie: &str, title: &str, version: i64) -> Delivered {
    let event = pb::MovieUpdated {
        movie_id: movie.into(),
        title: title.into(),
        seats: 3,
    };
    delivered("cinema.movie", &event, movie, version)
}

fn movie_deleted(movie: &str, version: i64) -> Delivered {
    let event = pb::MovieDeleted {
        movie_id: movie.into(),
    };
    delivered("cinema.movie", &event, movie, version)
}

fn confirmed(rsv: &str) -> Delivered {
    let event = pb::ReservationConfirmed {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
        amount: 0,
    };
    delivered("cinema.reservation", &event, rsv, 1)
}

fn cancelled(rsv: &str) -> Delivered {
    let event = pb::ReservationCancelled {
        rsv_id: rsv.into(),
        movie_id: "m1".into(),
        customer_id: "kim".into(),
    };
    delivered("cinema.reservation", &event, rsv, 3)
}

fn review_created(review: &str) -> Delivered {
    let event = pb::ReviewCreated {
        review_id: review.into(),
        movie_id: "m1".into(),
    };
    delivered("cinema.review", &event, review, 1)
}

fn review_deleted(review: &str) -> Delivered {
    let event = pb::ReviewDeleted {
        review_id: review.into(),
        movie_id: "m1".into(),
    };
    delivered("cinema.review", &event, review, 2)
}

#[tokio::test]
async fn movie_events_apply_in_version_order_whatever_the_delivery_order() {
    let v = Viewpage::new().await;
    let update = updated("m1", "Parasite (2019)", 2);
    v.deliver(&[&update, &registered("m1", "Parasite", 1), &update])
        .await;
    let m1 = v.page("m1").await.unwrap();
    assert_eq!((m1.title.as_str(), m1.seats), ("Parasite (2019)", 3));
}

#[tokio::test]
async fn a_deleted_movie_never_comes_back() {
    let v = Viewpage::new().await;
    v.deliver(&[
        &movie_deleted("m1", 3),
        &registered("m1", "Parasite", 1),
        &updated("m1", "Parasite", 2),
        &registered("m2", "Okja", 1),
    ])
    .await;
    let pages = v.pages().await;
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(pages[0].movie_id, "m2");
}

#[tokio::test]
async fn a_reservation_shows_its_latest_state_whatever_the_delivery_order() {
    let v = Viewpage::new().await;
    let cancel = cancelled("r1");
    v.deliver(&[
        &registered("m1", "Parasite", 1),
        &cancel,
        &confirmed("r1"),
        &cancel,
        &confirmed("r2"),
        &confirmed("r2"),
    ])
    .await;
    let m1 = v.page("m1").await.unwrap();
    let states: Vec<(&str, &str)> = m1
        .reservations
        .iter()
        .map(|r| (r.rsv_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(states, [("r1", "CANCELLED"), ("r2", "CONFIRMED")]);
}

#[tokio::test]
async fn reviews_count_once_per_review_whatever_arrives_twice_or_first() {
    let v = Viewpage::new().await;
    let a = review_created("a");
    v.deliver(&[
        &a,
        &a,                   // replayed
        &review_created("a"), // the same change under another event id
        &review_deleted("b"), // deleted before its creation arrives
        &review_created("b"),
        &review_created("c"),
        &review_deleted("c"),
        &review_deleted("c"),
    ])
    .await;
    assert_eq!(
        v.page("m1").await.map(|p| p.review_cnt),
        Some(1),
        "reviews counted before their movie show on a placeholder"
    );
    v.deliver(&[&registered("m1", "Parasite", 1)]).await;
    let m1 = v.page("m1").await.unwrap();
    assert_eq!((m1.title.as_str(), m1.review_cnt), ("Parasite", 1));
}

#[tokio::test]
async fn a_movie_shows_at_most_fifty_reservations() {
    let v = Viewpage::new().await;
    v.deliver(&[&registered("m1", "Parasite", 1)]).await;
    for n in 0..60 {
        v.deliver(&[&confirmed(&format!("r{n:02}"))]).await;
    }
    let shown = v.page("m1").await.unwrap().reservations;
    assert_eq!(shown.len(), 50);
    assert_eq!(
        (shown[0].rsv_id.as_str(), shown[49].rsv_id.as_str()),
        ("r00", "r49")
    );
}

#[tokio::test]
async fn a_bad_page_is_refused_naming_the_field() {
    let v = Viewpage::new().await;
    let request = Request::new(pb::ListViewpagesRequest {
        page_size: -1,
        ..Default::default()
    });
    let status = v.api.list_viewpages(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("page_size"),
        "{}",
        status.message()
    );
}
