//! Why the channel view refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::{FieldViolation, not_found};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error("no channel view of client {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::NotFound(id) => not_found("client", &id),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
