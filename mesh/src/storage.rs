//! A database per context: SQLite file or PostgreSQL schema (`store`), SQLite group commit
//! (`group_commit`), AIP-158 paging (`page`). Nothing here knows what events are: the outbox
//! is a table the `events` layer declares and writes through a transaction.
pub mod group_commit;
pub mod page;
pub mod store;
