//! The reservation saga's synchronous half: record the reservation and hold a seat in one
//! transaction, call `Pay` through the breaker (the reservation id is the idempotency key),
//! then settle: CONFIRMED raises `ReservationConfirmed`; a failed payment gives the seat
//! back and raises `ReservationFailed`, so a payment that went through after all is
//! cancelled. A movie the seat ledger has not heard of yet (registered a moment ago) is
//! asked of movie, through its breaker; movie being down only stops reservations of movies
//! the ledger does not know.
use mediamesh_mesh::calls::recovery::Abandoned;
use mediamesh_mesh::error::{internal, not_found};
use mediamesh_mesh::{Event, Peer, Raise, Retry, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::movie_service_client::MovieServiceClient;
use mediamesh_proto::cinema::v1::payment_service_client::PaymentServiceClient;
use tonic::Status;

use crate::domain::{Reservation, Status as RsvStatus};
use crate::store::{self, Hold};

const CONTEXT: &str = "cinema.reservation";

#[derive(Clone)]
pub struct Booking {
    store: Store,
    payment: Peer,
    movie: Peer,
}

impl Booking {
    pub fn new(store: Store, payment: Peer, movie: Peer) -> Booking {
        Booking {
            store,
            payment,
            movie,
        }
    }

    /// Reserves a seat; answers the reservation CONFIRMED, or an error.
    pub async fn reserve(&self, reservation: Reservation) -> Result<Reservation, Status> {
        // While payment's breaker is open, answer "pay later" before holding anything.
        self.payment.check()?;
        let mut hold = self.hold(reservation.clone(), None).await?;
        if hold == Hold::Unknown {
            let seats = self.ask_movie(&reservation.movie_id).await?;
            hold = self.hold(reservation.clone(), Some(seats)).await?;
        }
        match hold {
            Hold::Held => {}
            Hold::Full => {
                return Err(Status::failed_precondition(format!(
                    "movie {:?} has no seats left",
                    reservation.movie_id
                )));
            }
            Hold::Deleted | Hold::Unknown => {
                return Err(not_found("movie", &reservation.movie_id));
            }
        }
        let paid = self.pay(&reservation).await;
        self.settle(reservation, paid).await
    }

    /// Records the reservation and holds its seat, or records nothing. Insert first, then
    /// hold: on PostgreSQL a second insert of the same id waits for the first and conflicts,
    /// so the same id created twice at once holds one seat. `learned`: the seats movie
    /// answered for a movie the ledger had not heard of.
    async fn hold(&self, reservation: Reservation, learned: Option<i64>) -> Result<Hold, Status> {
        let id = reservation.id.clone();
        let hold = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !store::insert(tx, &reservation).await? {
                        return Ok(None);
                    }
                    if let Some(seats) = learned {
                        store::learn_movie(tx, &reservation.movie_id, seats).await?;
                    }
                    let hold = store::hold_seat(tx, &reservation.movie_id).await?;
                    if hold != Hold::Held {
                        store::forget(tx, &reservation.id).await?;
                    }
                    Ok(Some(hold))
                })
            })
            .await
            .map_err(internal)?;
        hold.ok_or_else(|| {
            Status::already_exists(format!("rsv_id: reservation {id:?} already exists"))
        })
    }

    /// Movie's seats for `movie_id`, asked through the breaker: NOT_FOUND when movie has no
    /// such movie, UNAVAILABLE with RetryInfo when it cannot answer.
    async fn ask_movie(&self, movie_id: &str) -> Result<i64, Status> {
        let request = pb::GetMovieRequest {
            movie_id: movie_id.to_owned(),
        };
        let answer = self
            .movie
            .call(Retry::Safe, |channel| {
                let request = self.movie.request(request.clone());
                async move { MovieServiceClient::new(channel).get_movie(request).await }
            })
            .await;
        match answer {
            Ok(movie) => Ok(movie.seats.into()),
            Err(error) if error.is_not_found() => Err(not_found("movie", movie_id)),
            Err(error) => Err(error.into()),
        }
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
            .call(Retry::Safe, |channel| {
                let request = self.payment.request(request.clone());
                async move { PaymentServiceClient::new(channel).pay(request).await }
            })
            .await
            .map_err(Status::from)
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
            Err(error) => Err(error.into()),
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
