//! A database per context: SQLite file or PostgreSQL schema (`store`), SQLite group commit
//! (`group_commit`), AIP-158 paging (`page`). Nothing here knows what events are: the outbox
//! is a table the `events` layer declares and writes through a transaction.
pub mod backlog;
pub mod group_commit;
pub mod page;
pub mod sql;
pub mod sqlite;
pub mod store;

/// A storage failure at the edge: a transient one (busy, pool timeout, deadlock) is
/// `UNAVAILABLE` with `RetryInfo` ("try again"); a value refused before it was written (an
/// event over the outbox's bound) is the caller's input; anything else is `INTERNAL`
/// (logged, not shown).
pub fn to_status(error: sqlx::Error) -> tonic::Status {
    if store::is_transient(&error) {
        tracing::warn!(%error, "storage busy");
        return crate::error::unavailable(
            "storage busy; try again",
            std::time::Duration::from_millis(200),
        );
    }
    if let sqlx::Error::Encode(refused) = &error {
        return crate::error::invalid_argument("request", refused.to_string());
    }
    crate::error::internal(error)
}
