//! The copyright table.
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::music::v1 as pb;
use sqlx::Row;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS copyrights (
    content_id TEXT PRIMARY KEY,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    original_content_id TEXT NOT NULL,
    status TEXT NOT NULL,
    approved_at TEXT NOT NULL
);
"];

const COLUMNS: &str = "content_id, creator_name, title, original_content_id, status";

fn copyright(row: &sqlx::any::AnyRow) -> Result<pb::Copyright, sqlx::Error> {
    Ok(pb::Copyright {
        content_id: row.try_get("content_id")?,
        creator_name: row.try_get("creator_name")?,
        title: row.try_get("title")?,
        original_content_id: row.try_get("original_content_id")?,
        status: row.try_get("status")?,
    })
}

pub async fn insert(tx: &mut Tx, c: &pb::Copyright) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO copyrights ({COLUMNS}, approved_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
    ))
    .bind(c.content_id.clone())
    .bind(c.creator_name.clone())
    .bind(c.title.clone())
    .bind(c.original_content_id.clone())
    .bind(c.status.clone())
    .bind(mediamesh_mesh::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get_in(tx: &mut Tx, content_id: &str) -> Result<Option<pb::Copyright>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM copyrights WHERE content_id = $1"
    ))
    .bind(content_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| copyright(&r))
    .transpose()
}

/// Releases an approved copyright; true when it was approved.
pub async fn release(tx: &mut Tx, content_id: &str) -> Result<bool, sqlx::Error> {
    let released = sqlx::query(
        "UPDATE copyrights SET status = 'RELEASED' WHERE content_id = $1 AND status = 'APPROVED'",
    )
    .bind(content_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(released == 1)
}

pub async fn list(store: &Store, page: Page) -> Result<Vec<pb::Copyright>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM copyrights ORDER BY approved_at, content_id LIMIT $1 OFFSET $2"
    ))
    .bind(page.fetch_limit())
    .bind(page.offset)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(copyright)
    .collect()
}
