//! "Insert, else answer what is recorded": how a request that carries an idempotency key is
//! recorded. The insert comes first, so two copies of one request sent at once meet on the
//! key (one inserts, the other waits for it and reads it, on SQLite and PostgreSQL alike);
//! the events are raised only by the copy that inserted. Whether the recorded one answers the
//! caller's request (the same request again) or refuses it (the key reused for another) is
//! the domain's to say.
use crate::events::event::Event;
use crate::events::outbox::Raise;
use crate::storage::store::{Store, Tx};

/// A record kept under an idempotency key.
#[async_trait::async_trait]
pub trait Keyed: Sized + Clone + Send + 'static {
    /// Inserts this record unless its key is taken; true when it was inserted.
    async fn insert(&self, tx: &mut Tx) -> Result<bool, sqlx::Error>;

    /// The record that holds this record's key.
    async fn recorded(&self, tx: &mut Tx) -> Result<Option<Self>, sqlx::Error>;
}

/// What recording found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded<T> {
    /// This request made the record (its events are raised).
    New(T),
    /// The key was taken: what holds it.
    Existing(T),
}

/// Records `record` with `events` in one transaction, or answers what holds its key.
pub async fn record_once<T: Keyed>(
    store: &Store,
    record: T,
    events: Vec<Event>,
) -> Result<Recorded<T>, sqlx::Error> {
    store
        .write(move |tx| {
            // A write may run again (its group failed): each run gets its own copies.
            let (record, events) = (record.clone(), events.clone());
            Box::pin(async move {
                if record.insert(tx).await? {
                    for event in events {
                        tx.raise(event).await?;
                    }
                    return Ok(Recorded::New(record));
                }
                let existing = record.recorded(tx).await?;
                // The key was taken inside this transaction's view: its holder is there.
                existing
                    .map(Recorded::Existing)
                    .ok_or(sqlx::Error::RowNotFound)
            })
        })
        .await
}
