//! Domain events: on the wire (`event`, `nats`), out through the transactional outbox
//! (`outbox`), in through durable consumers with exactly-once effects (`consumer`) and typed
//! policies (`policy`), counted once per key (`tally`) or summed over parts at their latest
//! version (`parts`), and kept whole when they can never go through (`deadletters`).
pub mod consumer;
pub mod deadletters;
pub mod event;
pub mod nats;
pub mod once;
pub mod outbox;
pub mod parts;
pub mod policy;
pub mod tally;

/// Prepares a context's database: the events layer's tables, then the context's own
/// migrations.
pub async fn migrate(store: &crate::Store, migrations: &[crate::Migration]) -> anyhow::Result<()> {
    store.migrate(&outbox::TABLES, migrations).await
}
