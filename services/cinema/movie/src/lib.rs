//! Movie reservation, movie context: theaters register, change and remove movies (with
//! their seat capacity); the review count moves with review events, once per review, and
//! the confirmed count with reservation events, so seats never go below it. Every movie
//! event carries the movie's version; ids of deleted movies are retired.
mod domain;
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::cinema::v1::movie_service_server::MovieServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "movie",
    role: "supporting",
    services: &[(
        "mediamesh.cinema.v1.MovieService",
        &[
            "ListMovies",
            "GetMovie",
            "CreateMovie",
            "UpdateMovie",
            "DeleteMovie",
        ],
    )],
    calls: &[],
    publishes: &["MovieRegistered", "MovieUpdated", "MovieDeleted"],
    consumes: &[
        "cinema.review.ReviewCreated",
        "cinema.review.ReviewDeleted",
        "cinema.reservation.ReservationConfirmed",
        "cinema.reservation.ReservationCancelled",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Movie;

#[async_trait::async_trait]
impl Context for Movie {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(MovieServiceServer::new(grpc::MovieApi::new(env.store)));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Count)],
        })
    }
}
