//! Why review refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, not_found};
use tonic::Status;

use crate::domain::ReviewError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ReviewError),
    #[error("review_id: review {0:?} exists or existed; ids are never reused")]
    IdTaken(String),
    #[error("review {0:?} not found")]
    NotFound(String),
    /// Movie could not be asked about a movie the replica has not heard of.
    #[error(transparent)]
    Movie(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            // The movie a review names: the message starts with the field it came in.
            Error::Rule(ReviewError::MovieNotFound(id)) => {
                Status::not_found(format!("movie_id: movie {id:?} not found"))
            }
            taken @ Error::IdTaken(_) => Status::already_exists(taken.to_string()),
            Error::NotFound(id) => not_found("review", &id),
            Error::Movie(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
