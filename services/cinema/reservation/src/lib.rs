//! Movie reservation, reservation context (core): no payment, no reservation, and never
//! more reservations than seats under any concurrency. Seats come from its own replica of
//! the movies (fed by versioned events); a movie it has not heard of yet is asked of movie
//! (`GetMovie`), so movie being down never stops reservations of movies it knows.
mod booking;
mod domain;
mod grpc;
mod policy;
mod store;

use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Started, Subscription};
use mediamesh_proto::cinema::v1::reservation_service_server::ReservationServiceServer;
use tonic::service::RoutesBuilder;

pub static INFO: ContextInfo = ContextInfo {
    app: "cinema",
    name: "reservation",
    role: "core",
    services: &[(
        "mediamesh.cinema.v1.ReservationService",
        &[
            "CreateReservation",
            "GetReservation",
            "ListReservations",
            "UpdateReservation",
        ],
    )],
    calls: &[("cinema.payment", "Pay"), ("cinema.movie", "GetMovie")],
    publishes: &[
        "ReservationConfirmed",
        "ReservationFailed",
        "ReservationCancelRequested",
        "ReservationCancelled",
    ],
    consumes: &[
        "cinema.movie.MovieRegistered",
        "cinema.movie.MovieUpdated",
        "cinema.movie.MovieDeleted",
        "cinema.payment.PaymentCancelled",
    ],
    migrations: store::MIGRATIONS,
    views: &[],
};

pub struct Reservation;

#[async_trait::async_trait]
impl Context for Reservation {
    fn info(&self) -> &'static ContextInfo {
        &INFO
    }

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<Started> {
        let booking = booking::Booking::new(
            env.store.clone(),
            env.peer("cinema.payment")?,
            env.peer("cinema.movie")?,
        );
        tokio::spawn(mediamesh_mesh::calls::recovery::sweep(
            "cinema.reservation",
            booking.clone(),
        ));
        routes.add_service(ReservationServiceServer::new(grpc::ReservationApi::new(
            env.store, booking,
        )));
        Ok(Started {
            subscriptions: vec![Subscription::of(&INFO, policy::Follow)],
        })
    }
}
