//! The message table (messages written before notices were keyed by reservation and kind
//! keep their event ids).
use mediamesh_mesh::storage::page::{Keyset, given_filters};
use mediamesh_mesh::{Migration, Store, Tx, sql};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::Notice;

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    rsv_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    create_time TEXT NOT NULL
);
",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS messages_by_create ON messages (create_time, message_id);",
    // A reservation's or a customer's messages in list order, sought rather than filtered
    // out of every message (with both filters given, either index seeks).
    "
CREATE INDEX IF NOT EXISTS messages_by_rsv ON messages (rsv_id, create_time, message_id);
CREATE INDEX IF NOT EXISTS messages_by_customer ON messages (customer_id, create_time, message_id);
",
];

/// Writes a notice unless it is written already; true if it is new.
pub async fn insert(tx: &mut Tx, notice: &Notice) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO messages (message_id, rsv_id, customer_id, kind, text, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(notice.message_id().to_owned())
    .bind(notice.rsv_id().to_owned())
    .bind(notice.customer_id().to_owned())
    .bind(notice.kind().as_str())
    .bind(notice.text().to_owned())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a reservation's or a customer's messages seek messages_by_rsv or
/// messages_by_customer, every message walks messages_by_create (one statement with
/// `($n = '' OR rsv_id = $n)` would walk it for a filter too).
pub(crate) fn list_statement(rsv_id: &str, customer_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("rsv_id", rsv_id), ("customer_id", customer_id)]);
    let sql = format!(
        "SELECT message_id, rsv_id, customer_id, kind, text, create_time FROM messages \
         WHERE (create_time, message_id) > ($2, $3){filter} \
         ORDER BY create_time, message_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    rsv_id: &str,
    customer_id: &str,
) -> Result<Vec<pb::Message>, sqlx::Error> {
    let (text, filters) = list_statement(rsv_id, customer_id);
    let rows = page.fetch(store, &text, &["", ""], filters).await?;
    rows.iter()
        .map(|r| {
            Ok(pb::Message {
                message_id: r.try_get("message_id")?,
                rsv_id: r.try_get("rsv_id")?,
                customer_id: r.try_get("customer_id")?,
                kind: r.try_get("kind")?,
                text: r.try_get("text")?,
                create_time: r.try_get("create_time")?,
            })
        })
        .collect()
}
