//! Why client refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::ClientError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ClientError),
    /// Ids of deleted clients are retired too.
    #[error("client_id: client {0:?} exists or existed; ids are never reused")]
    Exists(String),
    #[error("refund_request_id: refund request {0:?} exists")]
    RefundExists(String),
    #[error("client {0:?} not found")]
    NotFound(String),
    #[error("refund request {0:?} not found")]
    RefundNotFound(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            exists @ (Error::Exists(_) | Error::RefundExists(_)) => {
                Status::already_exists(exists.to_string())
            }
            Error::NotFound(id) => not_found("client", &id),
            Error::RefundNotFound(id) => not_found("refund request", &id),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
