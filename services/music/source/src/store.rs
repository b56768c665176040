//! The sound source table.
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::music::v1 as pb;
use sqlx::Row;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS sources (
    source_id TEXT PRIMARY KEY,
    content_id TEXT NOT NULL UNIQUE,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
"];

/// Registers the content's source unless it has one; true when registered now. A source
/// released before its approval arrived (events reordered across replicas or redeliveries)
/// stays released and only gains its title.
pub async fn register(tx: &mut Tx, s: &pb::Source) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO sources (source_id, content_id, creator_name, title, status, registered_at) \
         VALUES ($1, $2, $3, $4, 'REGISTERED', $5) ON CONFLICT DO NOTHING",
    )
    .bind(s.source_id.clone())
    .bind(s.content_id.clone())
    .bind(s.creator_name.clone())
    .bind(s.title.clone())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted == 0 {
        sqlx::query("UPDATE sources SET title = $2 WHERE content_id = $1 AND title = ''")
            .bind(s.content_id.clone())
            .bind(s.title.clone())
            .execute(tx.conn())
            .await?;
    }
    Ok(inserted == 1)
}

/// Releases the content's source. Insert first, then update: a release that arrives before
/// the approval (or while its registration is not yet committed) leaves a released source
/// the registration then finds, instead of updating nothing and letting it register.
pub async fn release(tx: &mut Tx, content_id: &str, creator_name: &str) -> Result<(), sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO sources (source_id, content_id, creator_name, title, status, registered_at) \
         VALUES ($1, $2, $3, '', 'RELEASED', $4) ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(content_id.to_owned())
    .bind(creator_name.to_owned())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted == 0 {
        sqlx::query("UPDATE sources SET status = 'RELEASED' WHERE content_id = $1")
            .bind(content_id.to_owned())
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

pub async fn list(store: &Store, page: Page) -> Result<Vec<pb::Source>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT source_id, content_id, creator_name, title, status FROM sources \
         ORDER BY registered_at, source_id LIMIT $1 OFFSET $2",
    )
    .bind(page.fetch_limit())
    .bind(page.offset)
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(pb::Source {
                source_id: r.try_get("source_id")?,
                content_id: r.try_get("content_id")?,
                creator_name: r.try_get("creator_name")?,
                title: r.try_get("title")?,
                status: r.try_get("status")?,
            })
        })
        .collect()
}
