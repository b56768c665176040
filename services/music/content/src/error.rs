//! Why content refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::{Code, Status};

use crate::domain::ContentError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] ContentError),
    /// Ids are never reused, deleted ones included: a new content under a deleted id would
    /// inherit its released copyright and source.
    #[error("content_id: content {0:?} already exists (ids of deleted contents stay retired)")]
    Exists(String),
    #[error("content {0:?} not found")]
    NotFound(String),
    #[error("content changed meanwhile; try again")]
    Changed,
    #[error("copyright is {0}")]
    NotApproved(String),
    #[error("the copyright approval failed; upload again under a new id")]
    UploadFailed,
    /// The detached saga did not run to its end (a panic, or shutdown).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Copyright(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl Error {
    /// Copyright refused the id because it holds another request's approval: not this
    /// upload's to release.
    pub fn key_taken(&self) -> bool {
        matches!(self, Error::Copyright(e) if Status::from(e.clone()).code() == Code::AlreadyExists)
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ ContentError::NotDeletable(_)) => {
                Status::failed_precondition(rule.to_string())
            }
            // A referenced id that names nothing, like an unknown movie in a reservation.
            Error::Rule(rule @ ContentError::NoSuchOriginal(_)) => {
                Status::not_found(format!("{}: {rule}", rule.field()))
            }
            Error::Rule(rule) => invalid_argument(rule.field(), rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(id) => not_found("content", &id),
            changed @ Error::Changed => Status::aborted(changed.to_string()),
            e @ (Error::NotApproved(_) | Error::UploadFailed) => {
                Status::failed_precondition(e.to_string())
            }
            Error::Copyright(error) => error.into(),
            Error::Interrupted(error) => mediamesh_mesh::error::internal(error),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
