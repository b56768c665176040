//! Why the desk refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found};
use tonic::Status;

use crate::domain::DeskError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] DeskError),
    #[error("installer_id: installer {0:?} already exists")]
    InstallerExists(String),
    #[error("installer {0:?} not found")]
    InstallerNotFound(String),
    #[error("assignment {0:?} not found")]
    NotFound(String),
    #[error("assignment changed meanwhile; try again")]
    Changed,
    #[error(transparent)]
    Peer(#[from] CallError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ DeskError::UnknownStatus) => {
                invalid_argument("status", rule.to_string())
            }
            Error::Rule(rule) => Status::failed_precondition(rule.to_string()),
            exists @ Error::InstallerExists(_) => Status::already_exists(exists.to_string()),
            Error::InstallerNotFound(id) => not_found("installer", &id),
            Error::NotFound(id) => not_found("assignment", &id),
            changed @ Error::Changed => Status::aborted(changed.to_string()),
            Error::Peer(error) => error.into(),
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
