//! Why reservation refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::ReservationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ReservationError),
    #[error("rsv_id: reservation {0:?} already exists")]
    Exists(String),
    #[error("movie {0:?} has no seats left")]
    NoSeats(String),
    /// The movie a reservation names: the message starts with the field it came in.
    #[error("movie_id: movie {0:?} not found")]
    MovieNotFound(String),
    #[error("reservation {0:?} not found")]
    NotFound(String),
    #[error("payment of reservation {0:?} is {1}")]
    NotPaid(String, String),
    #[error("reservation changed meanwhile; try again")]
    Changed,
    /// A capacity below the seats held or confirmed (`SetCapacity`).
    #[error("seats: {0} seats are held or confirmed; seats cannot go below that")]
    SeatsHeld(i64),
    /// A retried create of a reservation whose payment failed.
    #[error(
        "reservation {0:?} failed (its payment did not go through); reserve again under a new rsv_id"
    )]
    Failed(String),
    /// The detached saga did not run to its end (a panic, or shutdown).
    #[error("the reservation was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Peer(#[from] CallError),
    /// Payment could not be reached for a held seat: the reservation is settled FAILED, its
    /// seat went back and nothing was charged. Said so: the same request
    /// again can only answer `Failed` (still UNAVAILABLE with RetryInfo: come back later,
    /// with a new reservation).
    #[error(
        "reservation {rsv_id:?} failed and its seat went back ({cause}); \
         reserve again under a new rsv_id"
    )]
    NotMade { rsv_id: String, cause: CallError },
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ ReservationError::UnknownStatus) => {
                invalid_argument("status", rule.to_string())
            }
            Error::Rule(rule) => Status::failed_precondition(rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            full @ (Error::NoSeats(_) | Error::NotPaid(..)) => {
                Status::failed_precondition(full.to_string())
            }
            missing @ Error::MovieNotFound(_) => Status::not_found(missing.to_string()),
            Error::NotFound(id) => not_found("reservation", &id),
            changed @ Error::Changed => Status::aborted(changed.to_string()),
            held @ Error::SeatsHeld(_) => Status::failed_precondition(held.to_string()),
            failed @ Error::Failed(_) => Status::failed_precondition(failed.to_string()),
            Error::Interrupted(error) => mediamesh_mesh::error::internal(error),
            Error::Peer(error) => error.into(),
            Error::NotMade { rsv_id, cause } => {
                let message = Error::NotMade {
                    rsv_id,
                    cause: cause.clone(),
                }
                .to_string();
                cause.retold(message)
            }
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
