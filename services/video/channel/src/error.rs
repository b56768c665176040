//! Why channel refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::ChannelError;
use crate::replica::ClientNotFound;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ChannelError),
    /// Ids of deleted channels are retired too.
    #[error("channel_id: channel {0:?} exists or existed; ids are never reused")]
    Exists(String),
    #[error("channel {0:?} not found")]
    NotFound(String),
    #[error(transparent)]
    NoClient(#[from] ClientNotFound),
    /// Client could not say whether a client the replica has not heard of exists.
    #[error(transparent)]
    Client(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(id) => not_found("channel", &id),
            // Names the field, as a 404 of video's channel_id does.
            no_client @ Error::NoClient(_) => Status::not_found(no_client.to_string()),
            Error::Client(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
