//! The content table.
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Content, Details, Status};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS contents (
    content_id TEXT PRIMARY KEY,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    original_content_id TEXT NOT NULL,
    status TEXT NOT NULL,
    create_time TEXT NOT NULL
);
",
    // A sound source registered while the upload still waits for its own answer: kept
    // aside, so only an approved upload becomes REGISTERED.
    "ALTER TABLE contents ADD COLUMN source_registered BIGINT NOT NULL DEFAULT 0",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS contents_by_create ON contents (create_time, content_id);",
    // A creator's contents in list order, sought rather than filtered out of every content.
    "CREATE INDEX IF NOT EXISTS contents_by_creator ON contents (creator_name, create_time, content_id);",
];

const COLUMNS: &str =
    "content_id, creator_name, title, kind, description, original_content_id, status, create_time";

fn content(row: &sql::Row) -> Result<Content, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let details = Details {
        id: row.try_get("content_id")?,
        creator_name: row.try_get("creator_name")?,
        title: row.try_get("title")?,
        kind: row.try_get("kind")?,
        description: row.try_get("description")?,
        original_content_id: row.try_get("original_content_id")?,
        create_time: row.try_get("create_time")?,
    };
    let status = Status::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?;
    Ok(Content::restore(details, status))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Content>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM contents WHERE content_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| content(&r))
    .transpose()
}

pub async fn insert(tx: &mut Tx, content: &Content) -> Result<bool, sqlx::Error> {
    let c = content.details();
    let inserted = sql::query(&format!(
        "INSERT INTO contents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
    ))
    .bind(c.id.clone())
    .bind(c.creator_name.clone())
    .bind(c.title.clone())
    .bind(c.kind.clone())
    .bind(c.description.clone())
    .bind(c.original_content_id.clone())
    .bind(content.status().as_str())
    .bind(c.create_time.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Moves a content from one of `from` to `to`; true when it moved.
pub async fn transition(
    tx: &mut Tx,
    id: &str,
    from: &[Status],
    to: Status,
) -> Result<bool, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let moved = sql::query(&format!(
        "UPDATE contents SET status = $1 WHERE content_id = $2 AND status IN ({})",
        from.join(", ")
    ))
    .bind(to.as_str())
    .bind(id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// The sound source of a content is registered: an APPROVED content is REGISTERED now; one
/// still UPLOADED (the approval's events outran the upload's own answer) becomes REGISTERED
/// when its approval is recorded, and never if its upload fails. One statement, so an
/// approval committing meanwhile is re-read (READ COMMITTED), never missed.
pub async fn source_registered(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE contents SET source_registered = 1, \
         status = CASE WHEN status = 'APPROVED' THEN 'REGISTERED' ELSE status END \
         WHERE content_id = $1 AND status IN ('UPLOADED', 'APPROVED')",
    )
    .bind(id.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records an upload's approval: APPROVED, or REGISTERED when its source already is; true
/// when the content was still UPLOADED.
pub async fn approved(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let moved = sql::query(
        "UPDATE contents SET status = CASE WHEN source_registered = 1 THEN 'REGISTERED' ELSE 'APPROVED' END \
         WHERE content_id = $1 AND status = 'UPLOADED'",
    )
    .bind(id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a creator's contents seek contents_by_creator, all contents walk
/// contents_by_create (one statement with `($n = '' OR creator_name = $n)` would walk it for
/// a creator too).
pub(crate) fn list_statement(creator: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("creator_name", creator)]);
    let sql = format!(
        "SELECT {COLUMNS} FROM contents WHERE (create_time, content_id) > ($2, $3){filter} \
         ORDER BY create_time, content_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    creator: &str,
) -> Result<Vec<(Vec<String>, Content)>, sqlx::Error> {
    let (text, filters) = list_statement(creator);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "content_id"])?, content(r)?)))
        .collect()
}

/// Contents still UPLOADED that were recorded before `cutoff` (left by a crash).
pub async fn uploaded_before(store: &Store, cutoff: &str) -> Result<Vec<Content>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM contents WHERE status = 'UPLOADED' AND create_time < $1 ORDER BY create_time LIMIT 100"
    ))
    .bind(cutoff.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(content)
    .collect()
}
