//! The message table (messages written before notices were keyed by reservation and kind
//! keep their event ids).
use mediamesh_mesh::storage::page::Keyset;
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

pub async fn list(
    store: &Store,
    page: &Keyset,
    rsv_id: &str,
    customer_id: &str,
) -> Result<Vec<pb::Message>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    let rows = sql::query(
        "SELECT message_id, rsv_id, customer_id, kind, text, create_time FROM messages \
         WHERE ($3 = '' OR rsv_id = $3) AND ($4 = '' OR customer_id = $4) \
         AND (create_time, message_id) > ($2, $5) ORDER BY create_time, message_id LIMIT $1",
    )
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(rsv_id.to_owned())
    .bind(customer_id.to_owned())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?;
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
