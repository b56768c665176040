//! gRPC inbound adapter of review. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::input::{self, TEXT_MAX};
use mediamesh_mesh::serving::auth;
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Peer, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::domain::Review;
use crate::error::Error;
use crate::store;
use crate::write::{self, NewReview};

pub struct ReviewApi {
    store: Store,
    movie: Peer,
}

impl ReviewApi {
    pub fn new(store: Store, movie: Peer) -> ReviewApi {
        ReviewApi { store, movie }
    }

    async fn list(&self, r: pb::ListReviewsRequest) -> Result<pb::ListReviewsResponse, Error> {
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let movie_id = input::optional_id("movie_id", &r.movie_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &movie_id).await?;
        let (reviews, next_page_token) = page.split(rows);
        Ok(pb::ListReviewsResponse {
            reviews: reviews.iter().map(to_pb).collect(),
            next_page_token,
        })
    }
}

pub fn to_pb(r: &Review) -> pb::Review {
    pb::Review {
        review_id: r.review_id().to_owned(),
        movie_id: r.movie_id().to_owned(),
        content: r.content().to_owned(),
        create_time: r.create_time().to_owned(),
    }
}

fn parse(r: pb::CreateReviewRequest) -> Result<NewReview, Error> {
    Ok(NewReview {
        review_id: input::optional_id("review_id", &r.review_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        movie_id: input::id("movie_id", &r.movie_id)?,
        content: input::required_text("content", &r.content, TEXT_MAX)?,
    })
}

#[tonic::async_trait]
impl pb::review_service_server::ReviewService for ReviewApi {
    async fn create_review(
        &self,
        request: Request<pb::CreateReviewRequest>,
    ) -> Result<Response<pb::Review>, Status> {
        let new = parse(request.into_inner())?;
        let review = write::create(&self.store, &self.movie, new).await?;
        Ok(Response::new(to_pb(&review)))
    }

    async fn list_reviews(
        &self,
        request: Request<pb::ListReviewsRequest>,
    ) -> Result<Response<pb::ListReviewsResponse>, Status> {
        Ok(Response::new(self.list(request.into_inner()).await?))
    }

    async fn delete_review(
        &self,
        request: Request<pb::DeleteReviewRequest>,
    ) -> Result<Response<pb::DeleteReviewResponse>, Status> {
        auth::authorize(&request, access::may_delete)?;
        let id = input::id("review_id", &request.into_inner().review_id)?;
        write::delete(&self.store, &id).await?;
        Ok(Response::new(pb::DeleteReviewResponse {}))
    }
}
