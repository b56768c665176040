//! Why movie refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::MovieError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] MovieError),
    /// Ids of deleted movies are retired too.
    #[error("movie_id: movie {0:?} exists or existed; ids are never reused")]
    Exists(String),
    #[error("movie {0:?} not found")]
    NotFound(String),
    #[error("movie keeps changing meanwhile; try again")]
    Busy,
    /// The seat ledger refused a lower capacity; its message names `seats`.
    #[error("{0}")]
    SeatsHeld(String),
    /// The seat ledger could not be asked.
    #[error(transparent)]
    Ledger(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ MovieError::BelowConfirmed { .. }) => {
                Status::failed_precondition(format!("{}: {rule}", rule.field()))
            }
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(id) => not_found("movie", &id),
            busy @ Error::Busy => Status::aborted(busy.to_string()),
            Error::SeatsHeld(message) => Status::failed_precondition(message),
            Error::Ledger(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
