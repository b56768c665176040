//! The sound source table.
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Source, Status};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS sources (
    source_id TEXT PRIMARY KEY,
    content_id TEXT NOT NULL UNIQUE,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS sources_by_registered ON sources (registered_at, source_id);",
];

const COLUMNS: &str = "source_id, content_id, creator_name, title, status";

fn source(row: &sql::Row) -> Result<Source, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let status = Status::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?;
    Ok(Source::restore(
        row.try_get("source_id")?,
        row.try_get("content_id")?,
        row.try_get("creator_name")?,
        row.try_get("title")?,
        status,
    ))
}

/// Records `s` unless its content has a source; true when recorded now. A concurrent insert
/// for the same content waits for the other to commit, then does nothing.
pub async fn insert(tx: &mut Tx, s: &Source) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO sources ({COLUMNS}, registered_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(s.source_id().to_owned())
    .bind(s.content_id().to_owned())
    .bind(s.creator_name().to_owned())
    .bind(s.title().to_owned())
    .bind(s.status().as_str())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a content's source and locks it until the transaction ends (an UPDATE takes the
/// row lock on PostgreSQL; SQLite has one writer), so a transition decided on it holds.
pub async fn lock(tx: &mut Tx, content_id: &str) -> Result<Option<Source>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE sources SET status = status WHERE content_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(content_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| source(&r))
    .transpose()
}

/// Writes a source's state after a transition.
pub async fn save(tx: &mut Tx, s: &Source) -> Result<(), sqlx::Error> {
    sql::query("UPDATE sources SET title = $2, status = $3 WHERE content_id = $1")
        .bind(s.content_id().to_owned())
        .bind(s.title().to_owned())
        .bind(s.status().as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<(Vec<String>, Source)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(&format!(
        "SELECT {COLUMNS}, registered_at FROM sources WHERE (registered_at, source_id) > ($2, $3) \
         ORDER BY registered_at, source_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["registered_at", "source_id"])?, source(r)?)))
    .collect()
}
