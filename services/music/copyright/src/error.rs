//! Why copyright refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, invalid_argument};
use tonic::Status;

use crate::domain::ApprovalError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ApprovalError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            // A retry is answered; another request under a recorded key is told so.
            Error::Rule(reused @ ApprovalError::KeyReused) => {
                Status::already_exists(format!("{}: {reused}", reused.field()))
            }
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
