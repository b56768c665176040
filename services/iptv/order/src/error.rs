//! Why order refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::OrderError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] OrderError),
    #[error("join_order_id: join order {0:?} already exists")]
    Exists(String),
    #[error("join order {0:?} not found")]
    NotFound(String),
    #[error("join order changed meanwhile; try again")]
    Changed,
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ OrderError::UnknownStatus) => {
                invalid_argument("status", rule.to_string())
            }
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(id) => not_found("join order", &id),
            changed @ Error::Changed => Status::aborted(changed.to_string()),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
