//! The reservation saga's synchronous half: hold a seat and record the reservation in one
//! transaction, call `Pay` through the breaker (the reservation id is the idempotency key),
//! then settle: CONFIRMED raises `ReservationConfirmed`; a failed payment gives the seat
//! back and raises `ReservationFailed`, so a payment that went through after all is
//! cancelled.
use mediamesh_mesh::error::{internal, not_found};
use mediamesh_mesh::recovery::Abandoned;
use mediamesh_mesh::{Event, Peer, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::payment_service_client::PaymentServiceClient;
use tonic::Status;

use crate::domain::{Reservation, Status as RsvStatus};
use crate::store::{self, NoSeat};

const CONTEXT: &str = "cinema.reservation";

#[derive(Clone)]
pub struct Booking {
    store: Store,
    payment: Peer,
}

impl Booking {
    pub fn new(store: Store, payment: Peer) -> Booking {
        Booking { store, payment }
    }

    /// Reserves a seat; answers the reservation CONFIRMED, or an error.
    pub async fn reserve(&self, reservation: Reservation) -> Result<Reservation, Status> {
        // While payment's breaker is open, answer "pay later" before holding anything.
        self.payment.check()?;
        let held = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if store::get_in(tx, &reservation.id).await?.is_some() {
                        return Ok(Err(Status::already_exists(format!(
                            "reservation {:?} already exists",
                            reservation.id
                        ))));
                    }
                    match store::hold_seat(tx, &reservation.movie_id).await? {
                        Ok(()) => {}
                        Err(NoSeat::Full) => {
                            return Ok(Err(Status::failed_precondition(format!(
                                "movie {:?} has no seats left",
                                reservation.movie_id
                            ))));
                        }
                        Err(NoSeat::UnknownMovie) => {
                            return Ok(Err(not_found("movie", &reservation.movie_id)));
                        }
                    }
                    store::insert(tx, &reservation).await?;
                    Ok(Ok(reservation))
                })
            })
            .await
            .map_err(internal)??;
        let paid = self.pay(&held).await;
        self.settle(held, paid).await
    }

    /// Calls `Pay`; idempotent, so the client stack may retry it.
    pub async fn pay(&self, r: &Reservation) -> Result<pb::Payment, Status> {
        let request = pb::PayRequest {
            rsv_id: r.id.clone(),
            movie_id: r.movie_id.clone(),
            customer_id: r.customer_id.clone(),
            amount: r.amount as i32,
        };
        self.payment
            .call(true, |channel| {
                let request = self.payment.request(request.clone());
                async move { PaymentServiceClient::new(channel).pay(request).await }
            })
            .await
    }

    /// Records the payment's outcome on a pending reservation.
    pub async fn settle(
        &self,
        mut r: Reservation,
        paid: Result<pb::Payment, Status>,
    ) -> Result<Reservation, Status> {
        let outcome = match paid {
            Ok(payment) if payment.pay_status == "APPROVED" => Ok(()),
            Ok(payment) => Err(Status::failed_precondition(format!(
                "payment of reservation {:?} is {}",
                r.id, payment.pay_status
            ))),
            Err(status) => Err(status),
        };
        let id = r.id.clone();
        let event = if outcome.is_ok() {
            r.become_(RsvStatus::Confirmed);
            let confirmed = pb::ReservationConfirmed {
                rsv_id: r.id.clone(),
                movie_id: r.movie_id.clone(),
                customer_id: r.customer_id.clone(),
                amount: r.amount as i32,
            };
            Event::new(CONTEXT, &confirmed, &r.id, r.version, &r.id)
        } else {
            r.become_(RsvStatus::Failed);
            let failed = pb::ReservationFailed {
                rsv_id: r.id.clone(),
                movie_id: r.movie_id.clone(),
                customer_id: r.customer_id.clone(),
            };
            Event::new(CONTEXT, &failed, &r.id, r.version, &r.id)
        };
        let settled = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !store::update_status(tx, &r).await? {
                        return Ok(None);
                    }
                    if r.status == RsvStatus::Failed {
                        store::release_seat(tx, &r.movie_id).await?;
                    }
                    tx.raise(event).await?;
                    Ok(Some(r))
                })
            })
            .await
            .map_err(internal)?;
        match settled {
            Some(r) => outcome.map(|()| r),
            // Someone else (recovery) settled it first; theirs stands.
            None => store::get(&self.store, &id)
                .await
                .map_err(internal)?
                .ok_or_else(|| Status::internal("reservation vanished")),
        }
    }
}

#[async_trait::async_trait]
impl Abandoned for Booking {
    type Item = Reservation;
    type Answer = pb::Payment;

    async fn in_flight_before(&self, cutoff: &str) -> Result<Vec<Reservation>, sqlx::Error> {
        store::pending_before(&self.store, cutoff).await
    }

    async fn ask_again(&self, item: &Reservation) -> Result<pb::Payment, Status> {
        self.pay(item).await
    }

    async fn record(
        &self,
        item: Reservation,
        answer: Result<pb::Payment, Status>,
    ) -> Result<(), Status> {
        self.settle(item, answer).await.map(|_| ())
    }
}
