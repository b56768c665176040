//! Why video refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::VideoError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] VideoError),
    /// Ids of deleted videos are retired too.
    #[error("video_id: video {0:?} exists or existed; ids are never reused")]
    Exists(String),
    #[error("video {0:?} not found")]
    NotFound(String),
    /// Channel could not say whether a channel the replica has not heard of exists.
    #[error(transparent)]
    Channel(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ VideoError::ChannelNotFound(_)) => {
                Status::not_found(format!("{}: {rule}", rule.field()))
            }
            Error::Rule(rule @ VideoError::Removed) => {
                Status::failed_precondition(format!("{}: {rule}", rule.field()))
            }
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(id) => not_found("video", &id),
            Error::Channel(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
