//! Why policy refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, not_found};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error("policy_id: policy {0:?} exists or existed; ids are never reused")]
    IdTaken(String),
    #[error("policy {0:?} not found")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            taken @ Error::IdTaken(_) => Status::already_exists(taken.to_string()),
            Error::NotFound(id) => not_found("policy", &id),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
