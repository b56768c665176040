//! Movie reservation, movie context: theaters register, change and remove movies (with
//! their seat capacity); the review count moves with review events, once per review, and
//! the confirmed count with reservation events. Seats are lowered only once reservation's
//! seat ledger (the authority on seats held) has taken the new capacity (`SetCapacity`),
//! so they never go below the reservations held or confirmed. Every movie event carries the
//! movie's version; ids of deleted movies are retired.
mod access;
mod domain;
mod error;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::cinema::v1 as pb;
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
    calls: &[("cinema.reservation", "SetCapacity")],
    publishes: &["MovieRegistered", "MovieUpdated", "MovieDeleted"],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Movie;

#[async_trait::async_trait]
impl Context for Movie {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let reservation = env.peer("cinema.reservation")?;
        routes.add_service(MovieServiceServer::new(grpc::MovieApi::new(
            env.store,
            reservation,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// Review and confirmed-reservation counts.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Count)
        .on::<pb::ReviewCreated>()
        .on::<pb::ReviewDeleted>()
        .on::<pb::ReservationConfirmed>()
        .on::<pb::ReservationCancelled>()
        .into_handler()
}
