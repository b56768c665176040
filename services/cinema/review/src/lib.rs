//! Movie reservation, review context: customers review movies; ReviewCreated and
//! ReviewDeleted move the movie's review count (compensation by review id).
mod grpc;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started};
use mediamesh_proto::cinema::v1::review_service_server::ReviewServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "review",
    role: "supporting",
    services: &[(
        "mediamesh.cinema.v1.ReviewService",
        &["CreateReview", "ListReviews", "DeleteReview"],
    )],
    calls: &[],
    publishes: &["ReviewCreated", "ReviewDeleted"],
    consumes: &[],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Review;

#[async_trait::async_trait]
impl Context for Review {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(ReviewServiceServer::new(grpc::ReviewApi::new(env.store)));
        Ok(Started::default())
    }
}
