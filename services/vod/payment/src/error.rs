//! Why payment refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::PaymentError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] PaymentError),
    #[error("purchase_id {0:?} already has a payment for another request")]
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
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            reused @ Error::KeyReused(_) => Status::already_exists(reused.to_string()),
            Error::NotFound(id) => not_found("payment", &id),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
