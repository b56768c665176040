//! Why notification refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::error::FieldViolation;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
