//! Review's rules in process: a real SQLite store in a temporary folder, movie served in
//! memory (a small fake MovieService), movie events delivered as the consumer would
//! (replayed, reordered, stale), the gRPC adapter called directly.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mediamesh_mesh::testkit::{TestStore, delivered, peer_down, peer_in_memory};
use mediamesh_mesh::{CallPolicy, Delivered, Handler};
use mediamesh_proto::cinema::v1 as pb;
use pb::movie_service_server::{MovieService, MovieServiceServer};
use pb::review_service_server::ReviewService;
use tonic::{Code, Request, Response, Status};

use crate::grpc::ReviewApi;

/// Movie as review sees it: `GetMovie` answers for the movies it holds, and counts the asks.
#[derive(Clone, Default)]
struct FakeMovie {
    movies: Arc<Mutex<BTreeSet<String>>>,
    asked: Arc<AtomicUsize>,
}

impl FakeMovie {
    fn with(movies: &[&str]) -> FakeMovie {
        let fake = FakeMovie::default();
        fake.movies
            .lock()
            .unwrap()
            .extend(movies.iter().map(|m| m.to_string()));
        fake
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

#[tonic::async_trait]
impl MovieService for FakeMovie {
    async fn get_movie(
        &self,
        request: Request<pb::GetMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let id = request.into_inner().movie_id;
        if !self.movies.lock().unwrap().contains(&id) {
            return Err(Status::not_found(format!("movie {id:?} not found")));
        }
        Ok(Response::new(pb::Movie {
            movie_id: id,
            ..Default::default()
        }))
    }

    async fn list_movies(
        &self,
        _: Request<pb::ListMoviesRequest>,
    ) -> Result<Response<pb::ListMoviesResponse>, Status> {
        Err(Status::unimplemented("not used by review"))
    }

    async fn create_movie(
        &self,
        _: Request<pb::CreateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        Err(Status::unimplemented("not used by review"))
    }

    async fn update_movie(
        &self,
        _: Request<pb::UpdateMovieRequest>,
    ) -> Result<Response<pb::Movie>, Status> {
        Err(Status::unimplemented("not used by review"))
    }

    async fn delete_movie(
        &self,
        _: Request<pb::DeleteMovieRequest>,
    ) -> Result<Response<pb::DeleteMovieResponse>, Status> {
        Err(Status::unimplemented("not used by review"))
    }
}

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_millis(500),
        retries: 0,
        ..CallPolicy::default()
    }
}

struct Review {
    test: TestStore,
    api: ReviewApi,
    movie: FakeMovie,
    policies: Arc<dyn Handler>,
}

impl Review {
    async fn new(movies: &[&str]) -> Review {
        let test = TestStore::new(crate::store::MIGRATIONS).await;
        let movie = FakeMovie::with(movies);
        let routes = tonic::service::Routes::new(MovieServiceServer::new(movie.clone()));
        let peer = peer_in_memory("cinema.movie", routes, policy()).await;
        Review {
            api: ReviewApi::new(test.store.clone(), peer),
            test,
            movie,
            policies: crate::policies(),
        }
    }

    async fn deliver(&self, events: &[&Delivered]) {
        for event in events {
            self.test.deliver(&self.policies, event).await.unwrap();
        }
    }

    async fn create(&self, review: &str, movie: &str) -> Result<pb::Review, Status> {
        let request = Request::new(pb::CreateReviewRequest {
            review_id: review.into(),
            movie_id: movie.into(),
            content: "good".into(),
        });
        self.api
            .create_review(request)
            .await
            .map(|r| r.into_inner())
    }

    async fn delete(&self, review: &str) -> Result<(), Status> {
        let request = Request::new(pb::DeleteReviewRequest {
            review_id: review.into(),
        });
        self.api.delete_review(request).await.map(|_| ())
    }

    async fn listed(&self) -> Vec<String> {
        let request = Request::new(pb::ListReviewsRequest::default());
        let list = self.api.list_reviews(request).await.unwrap().into_inner();
        list.reviews.into_iter().map(|r| r.review_id).collect()
    }
}

fn registered(movie: &str, version: i64) -> Delivered {
    let event = pb::MovieRegistered {
        movie_id: movie.into(),
        title: "Parasite".into(),
        seats: 2,
    };
    delivered("cinema.movie", &event, movie, version)
}

fn updated(movie: &str, version: i64) -> Delivered {
    let event = pb::MovieUpdated {
        movie_id: movie.into(),
        title: "Parasite".into(),
        seats: 3,
    };
    delivered("cinema.movie", &event, movie, version)
}

fn deleted(movie: &str, version: i64) -> Delivered {
    let event = pb::MovieDeleted {
        movie_id: movie.into(),
    };
    delivered("cinema.movie", &event, movie, version)
}

#[tokio::test]
async fn a_review_of_a_replicated_movie_raises_one_event_without_asking_movie() {
    let r = Review::new(&[]).await;
    let event = registered("m1", 1);
    r.deliver(&[&event, &event]).await;
    let review = r.create("rv1", "m1").await.unwrap();
    assert_eq!(
        (review.movie_id.as_str(), review.content.as_str()),
        ("m1", "good")
    );
    assert_eq!(r.movie.asked(), 0, "the replica answered");
    let created: Vec<pb::ReviewCreated> = r.test.raised_of().await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].review_id, "rv1");
    assert_eq!(r.listed().await, ["rv1"]);
}

#[tokio::test]
async fn a_replica_miss_asks_movie_once_and_learns_the_answer() {
    let r = Review::new(&["m1"]).await;
    r.create("rv1", "m1").await.unwrap();
    assert_eq!(r.movie.asked(), 1, "not heard of yet: movie asked");
    r.create("rv2", "m1").await.unwrap();
    assert_eq!(r.movie.asked(), 1, "the replica learned the answer");
    // The movie's own events still apply to what was learned.
    r.deliver(&[&registered("m1", 1), &deleted("m1", 2)]).await;
    let refused = r.create("rv3", "m1").await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(r.movie.asked(), 1);
}

#[tokio::test]
async fn a_movie_movie_does_not_know_cannot_be_reviewed() {
    let r = Review::new(&[]).await;
    let refused = r.create("rv1", "nope").await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(refused.message(), "movie_id: movie \"nope\" not found");
    assert!(
        r.test.raised().await.is_empty(),
        "nothing refused is recorded"
    );
}

#[tokio::test]
async fn movie_down_is_unavailable_and_a_known_movie_needs_no_call() {
    let test = TestStore::new(crate::store::MIGRATIONS).await;
    let api = ReviewApi::new(test.store.clone(), peer_down("cinema.movie", policy()));
    let request = |movie: &str| {
        Request::new(pb::CreateReviewRequest {
            review_id: String::new(),
            movie_id: movie.into(),
            content: "good".into(),
        })
    };
    let refused = api.create_review(request("m1")).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    test.deliver(&crate::policies(), &registered("m2", 1))
        .await
        .unwrap();
    let review = api.create_review(request("m2")).await.unwrap().into_inner();
    assert!(
        !review.review_id.is_empty(),
        "an id is given when none is asked for"
    );
}

#[tokio::test]
async fn stale_and_reordered_movie_events_cannot_revive_a_deleted_movie() {
    let r = Review::new(&["m1", "m2"]).await;
    // Deleted first, then its registration and an update delivered late.
    r.deliver(&[&deleted("m1", 3), &registered("m1", 1), &updated("m1", 2)])
        .await;
    assert_eq!(
        r.create("rv1", "m1").await.unwrap_err().code(),
        Code::NotFound
    );
    // An update delivered before its registration: the movie is live.
    r.deliver(&[&updated("m2", 2), &registered("m2", 1)]).await;
    r.create("rv2", "m2").await.unwrap();
    assert_eq!(r.movie.asked(), 0, "the replica answered both");
}

#[tokio::test]
async fn a_review_is_deleted_once_and_its_id_stays_retired() {
    let r = Review::new(&[]).await;
    r.deliver(&[&registered("m1", 1)]).await;
    r.create("rv1", "m1").await.unwrap();
    r.create("rv2", "m1").await.unwrap();
    let taken = r.create("rv1", "m1").await.unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    r.delete("rv1").await.unwrap();
    assert_eq!(r.delete("rv1").await.unwrap_err().code(), Code::NotFound);
    assert_eq!(r.delete("nope").await.unwrap_err().code(), Code::NotFound);
    let retired = r.create("rv1", "m1").await.unwrap_err();
    assert_eq!(retired.code(), Code::AlreadyExists);
    assert!(retired.message().starts_with("review_id"));
    assert_eq!(r.listed().await, ["rv2"]);
    let deleted: Vec<pb::ReviewDeleted> = r.test.raised_of().await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        (deleted[0].review_id.as_str(), deleted[0].movie_id.as_str()),
        ("rv1", "m1")
    );
    assert_eq!(r.test.raised_of::<pb::ReviewCreated>().await.len(), 2);
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let r = Review::new(&["m1"]).await;
    for (review, movie, content, field) in [
        ("a b", "m1", "good", "review_id"),
        ("rv1", "", "good", "movie_id"),
        ("rv1", "m\n1", "good", "movie_id"),
        ("rv1", "m1", "", "content"),
    ] {
        let request = Request::new(pb::CreateReviewRequest {
            review_id: review.into(),
            movie_id: movie.into(),
            content: content.into(),
        });
        let status = r.api.create_review(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let long = Request::new(pb::CreateReviewRequest {
        review_id: "rv1".into(),
        movie_id: "m1".into(),
        content: "x".repeat(mediamesh_mesh::input::TEXT_MAX + 1),
    });
    let status = r.api.create_review(long).await.unwrap_err();
    assert!(status.message().starts_with("content"));
    assert_eq!(r.movie.asked(), 0, "bad input never reaches movie");
}

/// Every review id from the first page to the last, `size` a page, of `movie` ("": all).
async fn paged(r: &Review, movie: &str, size: i32) -> Vec<String> {
    let list = |token: String| {
        let request = Request::new(pb::ListReviewsRequest {
            page_size: size,
            page_token: token,
            movie_id: movie.into(),
        });
        let api = &r.api;
        async move {
            let page = api.list_reviews(request).await.unwrap().into_inner();
            let ids: Vec<String> = page.reviews.into_iter().map(|r| r.review_id).collect();
            (ids, page.next_page_token)
        }
    };
    mediamesh_mesh::testkit::every_page(list).await
}

#[tokio::test]
async fn one_movies_reviews_and_all_reviews_page_in_creation_order() {
    let r = Review::new(&[]).await;
    r.deliver(&[&registered("m1", 1), &registered("m2", 1)])
        .await;
    for (review, movie) in [
        ("rv1", "m1"),
        ("rv2", "m2"),
        ("rv3", "m1"),
        ("rv4", "m1"),
        ("rv5", "m2"),
        ("rv6", "m1"),
    ] {
        r.create(review, movie).await.unwrap();
    }
    r.delete("rv3").await.unwrap();
    assert_eq!(paged(&r, "m1", 2).await, ["rv1", "rv4", "rv6"]);
    assert_eq!(paged(&r, "m2", 1).await, ["rv2", "rv5"]);
    assert_eq!(paged(&r, "m3", 2).await, Vec::<String>::new());
    assert_eq!(paged(&r, "", 2).await, ["rv1", "rv2", "rv4", "rv5", "rv6"]);
}

/// A movie's reviews are sought in its index, in list order: not a walk of every review
/// (which `($n = '' OR movie_id = $n)` made of the listing) nor a sort of the movie's.
#[tokio::test]
async fn a_movies_reviews_are_sought_in_its_index() {
    let r = Review::new(&[]).await;
    let (sql, filters) = crate::store::list_statement("m1");
    assert_eq!(filters, ["m1"]);
    r.test
        .assert_seeks(&sql, &["INDEX reviews_by_movie (movie_id=?"])
        .await;
}
