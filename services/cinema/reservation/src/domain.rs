//! The reservation aggregate and its rules.

/// Who reserves when no customer is named.
pub const GUEST: &str = "guest";
/// Price of one seat, in won.
pub const TICKET_PRICE: i64 = 10_000;

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
    pub id: String,
    pub movie_id: String,
    pub customer_id: String,
    pub status: Status,
    pub amount: i64,
    pub create_time: String,
    pub version: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReservationError {
    #[error("must be \"cancel\"")]
    UnknownStatus,
    #[error("reservation is {0} and cannot be cancelled")]
    NotCancellable(&'static str),
}

impl Reservation {
    /// A reservation holding one seat of `movie_id`, payment still to come.
    pub fn hold(id: String, movie_id: String, customer_id: String, now: String) -> Reservation {
        Reservation {
            id,
            movie_id,
            customer_id,
            status: Status::Pending,
            amount: TICKET_PRICE,
            create_time: now,
            version: 1,
        }
    }

    /// Moves to `status`, one version on.
    pub fn become_(&mut self, status: Status) {
        self.status = status;
        self.version += 1;
    }

    /// The customer's cancel: a confirmed reservation starts cancelling; asking again
    /// changes nothing. Returns whether the saga starts now.
    pub fn request_cancel(&mut self) -> Result<bool, ReservationError> {
        match self.status {
            Status::Confirmed => {
                self.become_(Status::Cancelling);
                Ok(true)
            }
            Status::Cancelling | Status::Cancelled => Ok(false),
            other => Err(ReservationError::NotCancellable(other.as_str())),
        }
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

    #[test]
    fn cancel_starts_once_and_only_when_confirmed() {
        let mut r = Reservation::hold("r".into(), "m".into(), GUEST.into(), String::new());
        assert_eq!(
            r.request_cancel(),
            Err(ReservationError::NotCancellable("PENDING"))
        );
        r.become_(Status::Confirmed);
        assert_eq!(r.request_cancel(), Ok(true));
        assert_eq!(r.status, Status::Cancelling);
        assert_eq!(r.request_cancel(), Ok(false));
    }

    #[test]
    fn accepts_the_cancel_word_only() {
        assert!(requested_cancel("cancel").is_ok());
        assert_eq!(
            requested_cancel("confirmed"),
            Err(ReservationError::UnknownStatus)
        );
    }
}
