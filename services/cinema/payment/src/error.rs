//! Why payment refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::AmountOutOfRange;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Amount(#[from] AmountOutOfRange),
    #[error("rsv_id: reservation {0:?} is already paid with another request")]
    KeyReused(String),
    #[error("payment {0:?} not found")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Amount(rule) => invalid_argument("amount", rule.to_string()),
            reused @ Error::KeyReused(_) => Status::already_exists(reused.to_string()),
            Error::NotFound(id) => not_found("payment", &id),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
