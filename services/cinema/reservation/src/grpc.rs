//! gRPC inbound adapter of reservation. Every field passes `mediamesh_mesh::input` first.
use mediamesh_mesh::error::FieldViolation;
use mediamesh_mesh::input::{self, NAME_MAX};
use mediamesh_mesh::serving::auth::{self, Caller};
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Raise, Store};
use mediamesh_proto::cinema::v1 as pb;
use tonic::{Request, Response, Status};

use crate::access;
use crate::booking::Booking;
use crate::domain::{GUEST, Reservation, requested_cancel};
use crate::error::Error;
use crate::events::event;
use crate::store::{self, Capacity};

pub struct ReservationApi {
    store: Store,
    booking: Booking,
}

impl ReservationApi {
    pub fn new(store: Store, booking: Booking) -> ReservationApi {
        ReservationApi { store, booking }
    }

    async fn load(&self, id: &str) -> Result<Reservation, Error> {
        store::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    /// The cancel saga's first step: CANCELLING plus `ReservationCancelRequested`; payment
    /// cancels, then the reservation closes and its seat goes back.
    async fn cancel(
        &self,
        caller: Option<&Caller>,
        r: pb::UpdateReservationRequest,
    ) -> Result<Reservation, Status> {
        let id = input::id("rsv_id", &r.rsv_id)?;
        requested_cancel(&input::text("status", &r.status, NAME_MAX)?).map_err(Error::from)?;
        let reservation = self.load(&id).await?;
        auth::check(caller, |c| access::may_use(c, reservation.customer_id()))?;
        Ok(self.cancel_loaded(reservation).await?)
    }

    async fn cancel_loaded(&self, mut reservation: Reservation) -> Result<Reservation, Error> {
        let Some(requested) = reservation.request_cancel()? else {
            return Ok(reservation);
        };
        let mut tx = self.store.begin().await?;
        if !store::update_status(&mut tx, &reservation).await? {
            return Err(Error::Changed);
        }
        tx.raise(event(&requested)).await?;
        tx.commit().await?;
        Ok(reservation)
    }
}

impl ReservationApi {
    /// Movie's ask before it lowers a movie's seats (internal `SetCapacity`).
    async fn set_capacity(
        &self,
        r: pb::SetCapacityRequest,
    ) -> Result<pb::SetCapacityResponse, Error> {
        let movie_id = input::id("movie_id", &r.movie_id)?;
        if r.seats < 1 {
            return Err(FieldViolation::new("seats", "must be at least 1").into());
        }
        if r.movie_version < 1 {
            return Err(FieldViolation::new("movie_version", "must be at least 1").into());
        }
        let (id, seats, version) = (movie_id.clone(), i64::from(r.seats), r.movie_version);
        let capacity = self
            .store
            .write(move |tx| {
                let id = id.clone();
                Box::pin(async move { store::set_capacity(tx, &id, seats, version).await })
            })
            .await?;
        match capacity {
            Capacity::Set { reserved } => Ok(pb::SetCapacityResponse {
                movie_id,
                seats: r.seats,
                reserved,
            }),
            Capacity::Held { reserved } => Err(Error::SeatsHeld(reserved)),
            Capacity::Stale => Err(Error::Changed),
            Capacity::Deleted => Err(Error::MovieNotFound(movie_id)),
        }
    }
}

fn to_pb(r: Reservation) -> pb::Reservation {
    pb::Reservation {
        rsv_id: r.id().to_owned(),
        movie_id: r.movie_id().to_owned(),
        customer_id: r.customer_id().to_owned(),
        status: r.status().as_str().to_owned(),
        amount: r.amount().get(),
        create_time: r.create_time().to_owned(),
    }
}

fn held(r: pb::CreateReservationRequest) -> Result<Reservation, Error> {
    let id = input::optional_id("rsv_id", &r.rsv_id)?
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let movie_id = input::id("movie_id", &r.movie_id)?;
    let customer_id =
        input::optional_id("customer_id", &r.customer_id)?.unwrap_or_else(|| GUEST.to_owned());
    let now = mediamesh_mesh::observe::telemetry::now_rfc3339();
    Ok(Reservation::hold(id, movie_id, customer_id, now))
}

#[tonic::async_trait]
impl pb::reservation_service_server::ReservationService for ReservationApi {
    async fn create_reservation(
        &self,
        request: Request<pb::CreateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = auth::caller(&request).cloned();
        let mut r = request.into_inner();
        if let Some(caller) = &caller {
            r.customer_id = access::holder(caller, &r.customer_id)?;
        }
        let held = held(r)?;
        Ok(Response::new(to_pb(self.booking.reserve(held).await?)))
    }

    async fn get_reservation(
        &self,
        request: Request<pb::GetReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = auth::caller(&request).cloned();
        let id = input::id("rsv_id", &request.into_inner().rsv_id).map_err(Error::from)?;
        let reservation = self.load(&id).await?;
        auth::check(caller.as_ref(), |c| {
            access::may_use(c, reservation.customer_id())
        })?;
        Ok(Response::new(to_pb(reservation)))
    }

    async fn list_reservations(
        &self,
        request: Request<pb::ListReservationsRequest>,
    ) -> Result<Response<pb::ListReservationsResponse>, Status> {
        auth::authorize(&request, access::may_list)?;
        let r = request.into_inner();
        let page = Keyset::parse(r.page_size, &r.page_token, 2)?;
        let movie_id = input::optional_id("movie_id", &r.movie_id)?.unwrap_or_default();
        let rows = store::list(&self.store, &page, &movie_id)
            .await
            .map_err(Error::from)?;
        let (reservations, next_page_token) = page.split(rows);
        Ok(Response::new(pb::ListReservationsResponse {
            reservations: reservations.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    async fn set_capacity(
        &self,
        request: Request<pb::SetCapacityRequest>,
    ) -> Result<Response<pb::SetCapacityResponse>, Status> {
        Ok(Response::new(
            self.set_capacity(request.into_inner()).await?,
        ))
    }

    async fn update_reservation(
        &self,
        request: Request<pb::UpdateReservationRequest>,
    ) -> Result<Response<pb::Reservation>, Status> {
        let caller = auth::caller(&request).cloned();
        Ok(Response::new(to_pb(
            self.cancel(caller.as_ref(), request.into_inner()).await?,
        )))
    }
}
