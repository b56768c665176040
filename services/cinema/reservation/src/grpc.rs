//! gRPC inbound adapter of reservation. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::error::{internal, invalid_argument, not_found};
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Event, Raise, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::booking::Booking;
use crate::domain::{GUEST, Reservation, requested_cancel};
use crate::store;

pub struct ReservationApi {
    store: Store,
    booking: Booking,
}

impl ReservationApi {
    pub fn new(store: Store, booking: Booking) -> ReservationApi {
        ReservationApi { store, booking }
    }

    async fn load(&self, id: &str) -> Result<Reservation, Status> {
        store::get(&self.store, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found("reservation", id))
    }
}

fn to_pb(r: Reservation) -> pb::Reservation {
    pb::Reservation {
        rsv_id: r.id,
        movie_id: r.movie_id,
        customer_id: r.customer_id,
        status: r.status.as_str().to_owned(),
        amount: r.amount as i32,
        create_time: r.create_time,
    }
}

#[tonic::async_trait]
impl pb::reservation_service_server::ReservationService for ReservationApi {
    async fn create_reservation(
        &self,
        request: Request<pb::CreateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let r = request.into_inner();
        let id = input::optional_id("rsv_id", &r.rsv_id)?
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let movie_id = input::id("movie_id", &r.movie_id)?;
        let customer_id =
            input::optional_id("customer_id", &r.customer_id)?.unwrap_or_else(|| GUEST.to_owned());
        let held = Reservation::hold(
            id,
            movie_id,
            customer_id,
            mediamesh_mesh::observe::telemetry::now_rfc3339(),
        );
        Ok(Response::new(to_pb(self.booking.reserve(held).await?)))
    }

    async fn get_reservation(
        &self,
        request: Request<pb::GetReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let id = input::id("rsv_id", &request.into_inner().rsv_id)?;
        Ok(Response::new(to_pb(self.load(&id).await?)))
    }

    async fn list_reservations(
        &self,
        request: Request<pb::ListReservationsRequest>,
    ) -> Result<Response<pb::ListReservationsResponse>, Status> {
        let r = request.into_inner();
        let page = Page::parse(r.page_size, &r.page_token)?;
        let movie_id = input::optional_id("movie_id", &r.movie_id)?.unwrap_or_default();
        let mut reservations = store::list(&self.store, page, &movie_id)
            .await
            .map_err(internal)?;
        let next_page_token = page.finish(&mut reservations);
        Ok(Response::new(pb::ListReservationsResponse {
            reservations: reservations.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    /// The cancel saga's first step: CANCELLING plus `ReservationCancelRequested`; payment
    /// cancels, then the reservation closes and its seat goes back.
    async fn update_reservation(
        &self,
        request: Request<pb::UpdateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let r = request.into_inner();
        let id = input::id("rsv_id", &r.rsv_id)?;
        let status = input::text("status", &r.status, NAME_MAX)?;
        requested_cancel(&status).map_err(|e| invalid_argument("status", e.to_string()))?;
        let mut reservation = self.load(&id).await?;
        if !reservation
            .request_cancel()
            .map_err(|e| Status::failed_precondition(e.to_string()))?
        {
            return Ok(Response::new(to_pb(reservation)));
        }
        let requested = pb::ReservationCancelRequested {
            rsv_id: reservation.id.clone(),
            movie_id: reservation.movie_id.clone(),
            customer_id: reservation.customer_id.clone(),
        };
        let (id, version) = (reservation.id.clone(), reservation.version);
        let mut tx = self.store.begin().await.map_err(internal)?;
        if !store::update_status(&mut tx, &reservation)
            .await
            .map_err(internal)?
        {
            return Err(Status::aborted("reservation changed meanwhile; try again"));
        }
        tx.raise(Event::new(
            "cinema.reservation",
            &requested,
            &id,
            version,
            &id,
        ))
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(to_pb(reservation)))
    }
}
