//! The message table.
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    rsv_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    create_time TEXT NOT NULL
);
"];

pub async fn insert(tx: &mut Tx, m: &pb::Message) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (message_id, rsv_id, customer_id, kind, text, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(m.message_id.clone())
    .bind(m.rsv_id.clone())
    .bind(m.customer_id.clone())
    .bind(m.kind.clone())
    .bind(m.text.clone())
    .bind(m.create_time.clone())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn list(
    store: &Store,
    page: Page,
    rsv_id: &str,
) -> Result<Vec<pb::Message>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT message_id, rsv_id, customer_id, kind, text, create_time FROM messages \
         WHERE ($3 = '' OR rsv_id = $3) ORDER BY create_time, message_id LIMIT $1 OFFSET $2",
    )
    .bind(page.fetch_limit())
    .bind(page.offset)
    .bind(rsv_id.to_owned())
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
