//! gRPC inbound adapter of review. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::error::{internal, not_found};
use mediamesh_mesh::input::{self, TEXT_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::movie_service_client::MovieServiceClient;
use tonic::{Request, Response, Status};

use crate::store::{self, Known};

const CONTEXT: &str = "cinema.review";

pub struct ReviewApi {
    store: Store,
    movie: Peer,
}

impl ReviewApi {
    pub fn new(store: Store, movie: Peer) -> ReviewApi {
        ReviewApi { store, movie }
    }

    /// Checks that the movie exists: the replica answers, and a movie it has not heard of
    /// (registered a moment ago) is asked of movie through the breaker. Returns whether
    /// movie was asked (and the replica should learn the answer).
    async fn check_movie(&self, movie_id: &str) -> Result<bool, Status> {
        match store::movie(&self.store, movie_id)
            .await
            .map_err(internal)?
        {
            Known::Live => return Ok(false),
            Known::Deleted => return Err(not_found("movie", movie_id)),
            Known::Unheard => {}
        }
        let request = pb::GetMovieRequest {
            movie_id: movie_id.to_owned(),
        };
        let answer = self
            .movie
            .call(Retry::Safe, |channel| {
                let request = self.movie.request(request.clone());
                async move { MovieServiceClient::new(channel).get_movie(request).await }
            })
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(error) if error.is_not_found() => Err(not_found("movie", movie_id)),
            Err(error) => Err(error.into()),
        }
    }
}

#[tonic::async_trait]
impl pb::review_service_server::ReviewService for ReviewApi {
    async fn create_review(
        &self,
        request: Request<pb::CreateReviewRequest>,
    ) -> Result<Response<pb::Review>, Status> {
        let r = request.into_inner();
        let review_id = input::optional_id("review_id", &r.review_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let movie_id = input::id("movie_id", &r.movie_id)?;
        let content = input::required_text("content", &r.content, TEXT_MAX)?;
        let learned = self.check_movie(&movie_id).await?;
        let review = pb::Review {
            review_id,
            movie_id,
            content,
            create_time: mediamesh_mesh::observe::telemetry::now_rfc3339(),
        };
        let created = pb::ReviewCreated {
            review_id: review.review_id.clone(),
            movie_id: review.movie_id.clone(),
        };
        let event = Event::new(CONTEXT, &created, &review.review_id, 1, &review.review_id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if learned {
            store::learn_movie(&mut tx, &review.movie_id)
                .await
                .map_err(internal)?;
        }
        if !store::insert(&mut tx, &review).await.map_err(internal)? {
            // A deleted review's id is retired too: the review counts downstream are kept
            // by review id and would not count it again.
            return Err(Status::already_exists(format!(
                "review_id: review {:?} exists or existed; ids are never reused",
                review.review_id
            )));
        }
        tx.raise(event).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(review))
    }

    async fn list_reviews(
        &self,
        request: Request<pb::ListReviewsRequest>,
    ) -> Result<Response<pb::ListReviewsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let movie_id = input::optional_id("movie_id", &r.movie_id)?.unwrap_or_default();
        let mut reviews = store::list(&self.store, page, &movie_id)
            .await
            .map_err(internal)?;
        let next_page_token = page.finish(&mut reviews);
        Ok(Response::new(pb::ListReviewsResponse {
            reviews,
            next_page_token,
        }))
    }

    async fn delete_review(
        &self,
        request: Request<pb::DeleteReviewRequest>,
    ) -> Result<Response<pb::DeleteReviewResponse>, Status> {
        let id = input::id("review_id", &request.into_inner().review_id)?;
        let mut tx = self.store.begin().await.map_err(internal)?;
        let Some(movie_id) = store::delete(&mut tx, &id).await.map_err(internal)? else {
            return Err(not_found("review", &id));
        };
        let deleted = pb::ReviewDeleted {
            review_id: id.clone(),
            movie_id,
        };
        tx.raise(Event::new(CONTEXT, &deleted, &id, 2, &id))
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(pb::DeleteReviewResponse {}))
    }
}
