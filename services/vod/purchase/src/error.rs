//! Why purchase refuses a request, and how each reason reaches a gRPC client.
use mediamesh_mesh::CallError;
use std::time::Duration;

use mediamesh_mesh::error::{FieldViolation, invalid_argument, not_found, unavailable};
use tonic::Status;

use crate::domain::PurchaseError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldViolation),
    #[error(transparent)]
    Rule(#[from] PurchaseError),
    /// The client-chosen id names another request (AIP-133/155: a retry of the same request
    /// answers the purchase instead). The message names the field, as a violation would.
    #[error("purchase_id: purchase {0:?} already exists")]
    Exists(String),
    /// The resource asked for by id (GET, cancel) does not exist.
    #[error("{0} {1:?} not found")]
    NotFound(&'static str, String),
    /// A create refers to something that does not exist: NOT_FOUND names the referring field.
    #[error("{field}: {kind} {id:?} not found")]
    Unknown {
        field: &'static str,
        kind: &'static str,
        id: String,
    },
    /// Payment answered, and not with an approval.
    #[error("payment of purchase {purchase_id:?} is {status}")]
    Refused { purchase_id: String, status: String },
    /// A peer refused, or could not be reached (UNAVAILABLE with RetryInfo).
    #[error(transparent)]
    Peer(#[from] CallError),
    /// Payment could not be reached for a recorded purchase: it is settled FAILED and nothing
    /// was charged, so the same request again answers it FAILED. Said so (still UNAVAILABLE with
    /// RetryInfo: come back later, with a new purchase).
    #[error(
        "purchase {purchase_id:?} failed and nothing was charged ({cause}); \
         place it again under a new purchase_id"
    )]
    NotMade {
        purchase_id: String,
        cause: CallError,
    },
    #[error("purchase {0:?} changed meanwhile; try again")]
    Changed(String),
    /// The server stopped while the purchase was under way; a retry with the same id
    /// answers it once it is settled.
    #[error("purchase interrupted by a shutdown; retry with the same purchase_id")]
    Interrupted,
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl Error {
    /// Why a purchase failed, as its `PurchaseFailed` says.
    pub fn reason(&self) -> String {
        match self {
            Error::Peer(error) | Error::NotMade { cause: error, .. } => error.message().to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Status {
        match error {
            Error::Invalid(violation) => violation.into(),
            Error::Rule(rule @ PurchaseError::UnknownOrderStatus) => {
                invalid_argument("order_status", rule.to_string())
            }
            Error::Rule(rule) => Status::failed_precondition(rule.to_string()),
            exists @ Error::Exists(_) => Status::already_exists(exists.to_string()),
            Error::NotFound(kind, id) => not_found(kind, &id),
            unknown @ Error::Unknown { .. } => Status::not_found(unknown.to_string()),
            refused @ Error::Refused { .. } => Status::failed_precondition(refused.to_string()),
            Error::Peer(error) => error.into(),
            Error::NotMade { purchase_id, cause } => {
                let message = Error::NotMade {
                    purchase_id,
                    cause: cause.clone(),
                }
                .to_string();
                cause.retold(message)
            }
            changed @ Error::Changed(_) => Status::aborted(changed.to_string()),
            interrupted @ Error::Interrupted => {
                unavailable(interrupted.to_string(), Duration::from_secs(1))
            }
            Error::Storage(error) => mediamesh_mesh::storage::to_status(error),
        }
    }
}
