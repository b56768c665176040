//! Why comment refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, not_found};
use tonic::Status;

use crate::domain::CommentError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] CommentError),
    #[error("comment_id: comment {0:?} exists or existed; ids are never reused")]
    IdTaken(String),
    #[error("comment {0:?} not found")]
    NotFound(String),
    /// Video could not be asked about a video the replica has not heard of.
    #[error(transparent)]
    Video(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(CommentError::VideoNotFound(id)) => not_found("video", &id),
            taken @ Error::IdTaken(_) => Status::already_exists(taken.to_string()),
            Error::NotFound(id) => not_found("comment", &id),
            Error::Video(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
