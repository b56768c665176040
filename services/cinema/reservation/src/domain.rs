//! The reservation aggregate and its rules: a reservation holds a seat while its payment is
//! under way, then is confirmed or fails; a confirmed one can be cancelled by its customer,
//! and closes once its payment is cancelled. Each transition checks the current state and
//! returns the event it raises; nothing else changes a reservation.

/// Who reserves when no customer is named.
pub const GUEST: &str = "guest";

/// An amount in won (one seat is `Won::TICKET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Won(i32);

impl Won {
    /// Price of one seat.
    pub const TICKET: Won = Won(10_000);

    /// A stored amount; never negative.
    pub fn stored(amount: i64) -> Option<Won> {
        i32::try_from(amount).ok().filter(|a| *a >= 0).map(Won)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Seat held, payment under way.
    Pending,
    Confirmed,
    /// Payment refused or unreachable: the seat went back.
    Failed,
    /// The customer cancelled; waiting for the payment to be cancelled.
    Cancelling,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Confirmed => "CONFIRMED",
            Status::Failed => "FAILED",
            Status::Cancelling => "CANCELLING",
            Status::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Confirmed,
            Status::Failed,
            Status::Cancelling,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    id: String,
    movie_id: String,
    customer_id: String,
    status: Status,
    amount: Won,
    create_time: String,
    version: i64,
}

/// What a transition raises: which event, for which reservation, at which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub rsv_id: String,
    pub movie_id: String,
    pub customer_id: String,
    pub amount: Won,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// `ReservationConfirmed`.
    Confirmed,
    /// `ReservationFailed`: the seat goes back, a late payment is cancelled.
    Failed,
    /// `ReservationCancelRequested`.
    CancelRequested,
    /// `ReservationCancelled`: the seat goes back.
    Cancelled,
}

impl ChangeKind {
    /// Whether the reservation's seat goes back with this change.
    pub fn releases_seat(self) -> bool {
        matches!(self, ChangeKind::Failed | ChangeKind::Cancelled)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReservationError {
    #[error("must be \"cancel\"")]
    UnknownStatus,
    #[error("reservation is {0} and cannot be cancelled")]
    NotCancellable(&'static str),
    #[error("reservation is {0}, not {1}")]
    NotIn(&'static str, &'static str),
}

impl Reservation {
    /// A reservation holding one seat of `movie_id`, payment still to come.
    pub fn hold(id: String, movie_id: String, customer_id: String, now: String) -> Reservation {
        Reservation {
            id,
            movie_id,
            customer_id,
            status: Status::Pending,
            amount: Won::TICKET,
            create_time: now,
            version: 1,
        }
    }

    /// A reservation as stored.
    pub fn restore(
        id: String,
        movie_id: String,
        customer_id: String,
        status: Status,
        amount: Won,
        create_time: String,
        version: i64,
    ) -> Reservation {
        Reservation {
            id,
            movie_id,
            customer_id,
            status,
            amount,
            create_time,
            version,
        }
    }

    fn move_to(
        &mut self,
        from: Status,
        to: Status,
        kind: ChangeKind,
    ) -> Result<Change, ReservationError> {
        if self.status != from {
            return Err(ReservationError::NotIn(self.status.as_str(), from.as_str()));
        }
        self.status = to;
        self.version += 1;
        Ok(Change {
            kind,
            rsv_id: self.id.clone(),
            movie_id: self.movie_id.clone(),
            customer_id: self.customer_id.clone(),
            amount: self.amount,
            version: self.version,
        })
    }

    /// The payment was approved.
    pub fn confirm(&mut self) -> Result<Change, ReservationError> {
        self.move_to(Status::Pending, Status::Confirmed, ChangeKind::Confirmed)
    }

    /// The payment was refused or could not be made.
    pub fn fail(&mut self) -> Result<Change, ReservationError> {
        self.move_to(Status::Pending, Status::Failed, ChangeKind::Failed)
    }

    /// The customer's cancel: a confirmed reservation starts cancelling; asking again
    /// changes nothing (`None`).
    pub fn request_cancel(&mut self) -> Result<Option<Change>, ReservationError> {
        match self.status {
            Status::Confirmed => self
                .move_to(
                    Status::Confirmed,
                    Status::Cancelling,
                    ChangeKind::CancelRequested,
                )
                .map(Some),
            Status::Cancelling | Status::Cancelled => Ok(None),
            other => Err(ReservationError::NotCancellable(other.as_str())),
        }
    }

    /// Its payment was cancelled: a cancelling reservation closes. Any other (a failed
    /// reservation's late payment, a redelivery) is left as it is (`None`).
    pub fn close(&mut self) -> Option<Change> {
        self.move_to(Status::Cancelling, Status::Cancelled, ChangeKind::Cancelled)
            .ok()
    }

    /// Whether `other` asks for what this reservation was asked for (same movie, same
    /// customer): a retry of it, rather than another request under the same id.
    pub fn same_request(&self, other: &Reservation) -> bool {
        (self.movie_id.as_str(), self.customer_id.as_str())
            == (other.movie_id.as_str(), other.customer_id.as_str())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn movie_id(&self) -> &str {
        &self.movie_id
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn amount(&self) -> Won {
        self.amount
    }

    pub fn create_time(&self) -> &str {
        &self.create_time
    }

    pub fn version(&self) -> i64 {
        self.version
    }
}

/// The seed-style `PATCH {"status": "cancel"}`: the only status a client may set.
pub fn requested_cancel(status: &str) -> Result<(), ReservationError> {
    match status.trim().to_ascii_lowercase().as_str() {
        "cancel" | "cancelled" | "canceled" => Ok(()),
        _ => Err(ReservationError::UnknownStatus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held() -> Reservation {
        Reservation::hold("r".into(), "m".into(), GUEST.into(), String::new())
    }

    #[test]
    fn a_pending_reservation_is_settled_once() {
        let mut r = held();
        let confirmed = r.confirm().unwrap();
        assert_eq!(
            (confirmed.kind, confirmed.version),
            (ChangeKind::Confirmed, 2)
        );
        assert_eq!(confirmed.amount, Won::TICKET);
        assert_eq!(
            r.confirm(),
            Err(ReservationError::NotIn("CONFIRMED", "PENDING"))
        );
        assert!(r.fail().is_err(), "a confirmed reservation cannot fail");
        let mut r = held();
        assert!(r.fail().unwrap().kind.releases_seat());
        assert_eq!(r.status(), Status::Failed);
    }

    #[test]
    fn cancel_starts_once_and_only_when_confirmed() {
        let mut r = held();
        assert_eq!(
            r.request_cancel(),
            Err(ReservationError::NotCancellable("PENDING"))
        );
        r.confirm().unwrap();
        let requested = r.request_cancel().unwrap().unwrap();
        assert_eq!(
            (requested.kind, requested.version),
            (ChangeKind::CancelRequested, 3)
        );
        assert_eq!(r.status(), Status::Cancelling);
        assert_eq!(r.request_cancel(), Ok(None));
    }

    #[test]
    fn only_a_cancelling_reservation_closes() {
        let mut r = held();
        assert_eq!(r.close(), None);
        r.fail().unwrap();
        assert_eq!(
            r.close(),
            None,
            "a failed reservation's seat went back already"
        );
        let mut r = held();
        r.confirm().unwrap();
        r.request_cancel().unwrap();
        let closed = r.close().unwrap();
        assert!(closed.kind.releases_seat());
        assert_eq!(r.close(), None, "closed once");
    }

    #[test]
    fn a_retry_asks_for_the_same_movie_for_the_same_customer() {
        let mut first = held();
        first.confirm().unwrap();
        let retry = Reservation::hold("r".into(), "m".into(), GUEST.into(), "later".into());
        assert!(
            first.same_request(&retry),
            "status and time are not the request"
        );
        let other_movie = Reservation::hold("r".into(), "m2".into(), GUEST.into(), String::new());
        let other_customer = Reservation::hold("r".into(), "m".into(), "kim".into(), String::new());
        assert!(!first.same_request(&other_movie));
        assert!(!first.same_request(&other_customer));
    }

    #[test]
    fn accepts_the_cancel_word_only() {
        assert!(requested_cancel("cancel").is_ok());
        assert_eq!(
            requested_cancel("confirmed"),
            Err(ReservationError::UnknownStatus)
        );
    }

    #[test]
    fn stored_amounts_are_never_negative() {
        assert_eq!(Won::stored(10_000), Some(Won::TICKET));
        assert_eq!(Won::stored(-1), None);
        assert_eq!(Won::stored(i64::MAX), None);
    }
}
