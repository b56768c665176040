//! Movie reservation, review context: customers review movies; ReviewCreated and
//! ReviewDeleted move the movie's review count (compensation by review id). Only movies
//! that exist can be reviewed: review keeps a replica of the movies (fed by versioned
//! movie events) and asks movie (`GetMovie`) about one it has not heard of yet. Ids of
//! deleted reviews are retired.
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;
mod write;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::cinema::v1 as pb;
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
    calls: &[("cinema.movie", "GetMovie")],
    publishes: &["ReviewCreated", "ReviewDeleted"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Review;

#[async_trait::async_trait]
impl Context for Review {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let movie = env.peer("cinema.movie")?;
        routes.add_service(ReviewServiceServer::new(grpc::ReviewApi::new(
            env.store, movie,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The replica of the movies follows movie events.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Replicate)
        .on::<pb::MovieRegistered>()
        .on::<pb::MovieUpdated>()
        .on::<pb::MovieDeleted>()
        .into_handler()
}
