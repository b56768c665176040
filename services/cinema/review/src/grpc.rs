//! gRPC inbound adapter of review.
use mediamesh_mesh::error::{check_id, internal, invalid_argument, not_found, require};
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Event, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::store;

const CONTEXT: &str = "cinema.review";

pub struct ReviewApi {
    store: Store,
}

impl ReviewApi {
    pub fn new(store: Store) -> ReviewApi {
        ReviewApi { store }
    }
}

#[tonic::async_trait]
impl pb::review_service_server::ReviewService for ReviewApi {
    async fn create_review(
        &self,
        request: Request<pb::CreateReviewRequest>,
    ) -> Result<Response<pb::Review>, Status> {
        let r = request.into_inner();
        let movie_id = require("movie_id", &r.movie_id)?.to_owned();
        let content = require("content", &r.content)?.to_owned();
        if content.chars().count() > 2000 {
            return Err(invalid_argument(
                "content",
                "must be at most 2000 characters",
            ));
        }
        let review_id = if r.review_id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            check_id("review_id", &r.review_id)?;
            r.review_id
        };
        let review = pb::Review {
            review_id,
            movie_id,
            content,
            create_time: mediamesh_mesh::telemetry::now_rfc3339(),
        };
        let created = pb::ReviewCreated {
            review_id: review.review_id.clone(),
            movie_id: review.movie_id.clone(),
        };
        let event = Event::new(CONTEXT, &created, &review.review_id, 1, &review.review_id);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::insert(&mut tx, &review).await.map_err(internal)? {
            return Err(Status::already_exists(format!(
                "review {:?} already exists",
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
        let mut reviews = store::list(&self.store, page, &r.movie_id)
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
        let id = request.into_inner().review_id;
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
