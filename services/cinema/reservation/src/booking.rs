//! The reservation saga's synchronous half, on the mesh's `SyncSaga`: record the reservation
//! and hold a seat in one transaction, ask `Pay` (the reservation id is the idempotency key),
//! then settle: confirmed raises `ReservationConfirmed`; a failed payment gives the seat back
//! and raises `ReservationFailed`, so a payment that went through after all is cancelled. A
//! movie the seat ledger has not heard of yet (registered a moment ago) is asked of movie;
//! movie being down only stops reservations of movies the ledger does not know.
use mediamesh_mesh::calls::saga::{SyncSaga, complete, precheck, settled};
use mediamesh_mesh::{CallError, Peer, Raise, Retry, Store};
use mediamesh_proto::cinema::v1 as pb;
use mediamesh_proto::cinema::v1::movie_service_client::MovieServiceClient;
use mediamesh_proto::cinema::v1::payment_service_client::PaymentServiceClient;

use crate::domain::{Reservation, Status};
use crate::error::Error;
use crate::events::event;
use crate::store::{self, Hold};

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

    /// Reserves a seat; answers the reservation confirmed, or why not.
    ///
    /// Runs detached from the caller: a client whose deadline expires (or whose stream is
    /// reset) drops the request future, and a saga dropped between holding the seat and
    /// settling would stay PENDING until the recovery sweep settled it seconds later, behind
    /// the back of a client told it failed. Spawned, the saga settles at once either way;
    /// its peer calls then use their own timeout, not the departed caller's deadline.
    pub async fn reserve(&self, reservation: Reservation) -> Result<Reservation, Error> {
        let booking = self.clone();
        let run = async move { booking.run(reservation).await };
        mediamesh_mesh::calls::saga::detached(run)
            .await
            .map_err(|e| Error::Interrupted(e.to_string()))?
    }

    async fn run(&self, reservation: Reservation) -> Result<Reservation, Error> {
        // While payment's breaker is open, answer "pay later" before holding anything.
        precheck(self)?;
        let mut hold = self.hold(reservation.clone(), None).await?;
        if hold == Hold::Unknown {
            let seats = self.ask_movie(reservation.movie_id()).await?;
            hold = self.hold(reservation.clone(), Some(seats)).await?;
        }
        let movie_id = reservation.movie_id().to_owned();
        match hold {
            Hold::Held => complete(self, reservation).await,
            Hold::Full => Err(Error::NoSeats(movie_id)),
            Hold::Deleted | Hold::Unknown => Err(Error::MovieNotFound(movie_id)),
            Hold::Taken => self.replay(&reservation).await,
        }
    }

    /// A create under an id already taken (AIP-155): the same request again (a client
    /// retrying after a lost answer) is answered what the first one came to, as it is now,
    /// without holding or paying anything twice; another request under that id is refused.
    async fn replay(&self, retry: &Reservation) -> Result<Reservation, Error> {
        let id = retry.id().to_owned();
        let Some(existing) = store::get(&self.store, &id).await? else {
            // Recorded and taken back in one transaction meanwhile: never visible.
            return Err(Error::Changed);
        };
        if !existing.same_request(retry) {
            return Err(Error::Exists(id));
        }
        // A copy sent while the first waits for payment answers what the first comes to.
        let is_pending = |r: &Reservation| r.status() == Status::Pending;
        let look = || store::get(&self.store, &id);
        let recorded = existing.create_time().to_owned();
        let existing = settled(&self.payment, existing, &recorded, is_pending, look).await?;
        match existing.status() {
            Status::Failed => Err(Error::Failed(id)),
            _ => Ok(existing),
        }
    }

    /// Records the reservation and holds its seat, or records nothing. Insert first, then
    /// hold: on PostgreSQL a second insert of the same id waits for the first and conflicts,
    /// so the same id created twice at once holds one seat. `learned`: the seats movie
    /// answered for a movie the ledger had not heard of.
    async fn hold(&self, reservation: Reservation, learned: Option<i64>) -> Result<Hold, Error> {
        let hold = self
            .store
            .write(move |tx| {
                let reservation = reservation.clone();
                Box::pin(async move {
                    if !store::insert(tx, &reservation).await? {
                        return Ok(Hold::Taken);
                    }
                    let movie_id = reservation.movie_id();
                    if let Some(seats) = learned {
                        store::learn_movie(tx, movie_id, seats).await?;
                    }
                    let hold = store::hold_seat(tx, movie_id).await?;
                    if hold != Hold::Held {
                        store::forget(tx, reservation.id()).await?;
                    }
                    Ok(hold)
                })
            })
            .await?;
        Ok(hold)
    }

    /// Movie's seats for `movie_id`, asked through movie's breaker.
    async fn ask_movie(&self, movie_id: &str) -> Result<i64, Error> {
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
            Err(error) if error.is_not_found() => Err(Error::MovieNotFound(movie_id.to_owned())),
            Err(error) => Err(error.into()),
        }
    }
}

#[async_trait::async_trait]
impl SyncSaga for Booking {
    type Pending = Reservation;
    type Answer = pb::Payment;
    type Settled = Reservation;
    type Error = Error;

    fn peer(&self) -> &Peer {
        &self.payment
    }

    /// `Pay` carries the reservation id as its key, so the client stack may retry it.
    async fn ask(&self, r: &Reservation) -> Result<pb::Payment, CallError> {
        let request = pb::PayRequest {
            rsv_id: r.id().to_owned(),
            movie_id: r.movie_id().to_owned(),
            customer_id: r.customer_id().to_owned(),
            amount: r.amount().get(),
        };
        self.payment
            .call(Retry::Safe, |channel| {
                let request = self.payment.request(request.clone());
                async move { PaymentServiceClient::new(channel).pay(request).await }
            })
            .await
    }

    async fn settle(
        &self,
        mut r: Reservation,
        answer: Result<pb::Payment, CallError>,
    ) -> Result<Reservation, Error> {
        let id = r.id().to_owned();
        let outcome = match answer {
            Ok(payment) if payment.pay_status == "APPROVED" => Ok(()),
            Ok(payment) => Err(Error::NotPaid(id.clone(), payment.pay_status)),
            Err(cause) => Err(Error::NotMade {
                rsv_id: id.clone(),
                cause,
            }),
        };
        let change = match outcome {
            Ok(()) => r.confirm(),
            Err(_) => r.fail(),
        }?;
        let settled = self
            .store
            .write(move |tx| {
                let (r, change) = (r.clone(), change.clone());
                Box::pin(async move {
                    // Optimistic: the recovery sweep may have settled it meanwhile.
                    if !store::update_status(tx, &r).await? {
                        return Ok(None);
                    }
                    if change.kind.releases_seat() {
                        store::release_seat(tx, r.movie_id()).await?;
                    }
                    tx.raise(event(&change)).await?;
                    Ok(Some(r))
                })
            })
            .await?;
        match settled {
            Some(r) => outcome.map(|()| r),
            // Someone else settled it first; theirs stands.
            None => store::get(&self.store, &id)
                .await?
                .ok_or(Error::NotFound(id)),
        }
    }

    async fn pending_before(&self, cutoff: &str) -> Result<Vec<Reservation>, sqlx::Error> {
        store::pending_before(&self.store, cutoff).await
    }
}
