//! AIP-193 errors: every rejected call carries a `google.rpc` detail a client can act on
//! (field violations for bad input, a retry delay for overload).
//!
//! Application code speaks in its context's own error enum (`thiserror`); the gRPC edge turns
//! it into a `Status` with one `From` impl built from these helpers. Two errors come from the
//! mesh itself and convert on their own: `FieldViolation` (an input rule broken) and
//! `CallError` (a peer context refused or could not be reached).
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `INVALID_ARGUMENT` naming the offending field (`google.rpc.BadRequest`).
pub fn invalid_argument(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// A field that breaks its rule (`crate::input`): `INVALID_ARGUMENT` with a
/// `google.rpc.BadRequest` violation at the edge. Never carries the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: &str, description: impl Into<String>) -> FieldViolation {
        FieldViolation {
            field: field.to_owned(),
            description: description.into(),
        }
    }
}

impl From<FieldViolation> for Status {
    fn from(violation: FieldViolation) -> Status {
        invalid_argument(&violation.field, violation.description)
    }
}

/// `NOT_FOUND` for a resource of the given kind.
pub fn not_found(kind: &str, id: &str) -> Status {
    Status::not_found(format!("{kind} {id:?} not found"))
}

/// `UNAVAILABLE` with `google.rpc.RetryInfo`: "come back later", never a hang.
pub fn unavailable(message: impl Into<String>, retry_after: Duration) -> Status {
    Status::with_error_details(
        Code::Unavailable,
        message,
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

/// `RESOURCE_EXHAUSTED` with `google.rpc.RetryInfo`: the server sheds load instead of queueing.
pub fn resource_exhausted(message: impl Into<String>, retry_after: Duration) -> Status {
    Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

/// `INTERNAL` for a storage or broker failure; the cause is logged, not sent to the client.
pub fn internal(error: impl std::fmt::Display) -> Status {
    tracing::error!(%error, "internal error");
    Status::internal("internal error")
}
