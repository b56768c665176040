//! Movie reservation, viewpage context (CQRS): one screen with every movie, its
//! reservations' states and its review count, built only from events into its own tables
//! and rebuildable by replaying the stream (`mediamesh views rebuild`).
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::cinema::v1::viewpage_service_server::ViewpageServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "viewpage",
    role: "supporting",
    services: &[("mediamesh.cinema.v1.ViewpageService", &["ListViewpages"])],
    calls: &[],
    publishes: &[],
    consumes: &[
        "cinema.movie.MovieRegistered",
        "cinema.movie.MovieUpdated",
        "cinema.movie.MovieDeleted",
        "cinema.reservation.ReservationConfirmed",
        "cinema.reservation.ReservationCancelRequested",
        "cinema.reservation.ReservationCancelled",
        "cinema.review.ReviewCreated",
        "cinema.review.ReviewDeleted",
    ],
    migrations: store::MIGRATIONS,
    views: &["vp_movies", "vp_reservations", "mesh_tally"],
};

pub struct Viewpage;

#[async_trait::async_trait]
impl Context for Viewpage {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        routes.add_service(ViewpageServiceServer::new(grpc::ViewpageApi::new(
            env.store,
        )));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Project)],
        })
    }
}
