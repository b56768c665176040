//! Movie reservation, reservation context (core): no payment, no reservation, and never
//! more reservations than seats under any concurrency. Seats come from its own replica of
//! the movies (fed by versioned events); a movie it has not heard of yet is asked of movie
//! (`GetMovie`), so movie being down never stops reservations of movies it knows.
mod access;
mod booking;
mod domain;
mod error;
mod events;
mod grpc;
mod policy;
mod store;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use mediamesh_mesh::calls::saga::sweep;
use mediamesh_mesh::events::policy::Policies;
use mediamesh_mesh::{Context, ContextEnv, ContextInfo, Handler};
use mediamesh_proto::cinema::v1 as pb;
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
            "SetCapacity",
        ],
    )],
    calls: &[("cinema.payment", "Pay"), ("cinema.movie", "GetMovie")],
    publishes: &[
        "ReservationConfirmed",
        "ReservationFailed",
        "ReservationCancelRequested",
        "ReservationCancelled",
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

    async fn start(&self, env: ContextEnv, routes: &mut RoutesBuilder) -> anyhow::Result<()> {
        let booking = booking::Booking::new(
            env.store.clone(),
            env.peer("cinema.payment")?,
            env.peer("cinema.movie")?,
        );
        let saga = booking.clone();
        env.tasks.spawn("cinema.reservation recovery", move |stop| {
            let saga = saga.clone();
            async move { sweep("cinema.reservation", &saga, stop).await }
        });
        routes.add_service(ReservationServiceServer::new(grpc::ReservationApi::new(
            env.store, booking,
        )));
        Ok(())
    }

    fn policies(&self) -> Option<Arc<dyn Handler>> {
        Some(policies())
    }
}

/// The seat ledger follows the movies; a cancelled payment closes its reservation.
fn policies() -> Arc<dyn Handler> {
    Policies::new(policy::Follow)
        .on::<pb::MovieRegistered>()
        .on::<pb::MovieUpdated>()
        .on::<pb::MovieDeleted>()
        .on::<pb::PaymentCancelled>()
        .into_handler()
}
