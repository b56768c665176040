//! Why installation refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::InstallationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] InstallationError),
    #[error("installation {0:?} not found")]
    NotFound(String),
    #[error("installation changed meanwhile; try again")]
    Changed,
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ InstallationError::UnknownStatus) => {
                invalid_argument("status", rule.to_string())
            }
            Error::Rule(rule) => Status::failed_precondition(rule.to_string()),
            Error::NotFound(id) => not_found("installation", &id),
            changed @ Error::Changed => Status::aborted(changed.to_string()),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
