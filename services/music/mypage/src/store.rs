//! The mypage's own tables (the read model).
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::music::v1 as pb;
use sqlx::Row;

/// Covers listed per content: a popular original can have any number, and one page must
/// still fit the gateway (every id is at most 64 bytes).
pub const COVERS_SHOWN: i64 = 50;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS mypages (
    content_id TEXT PRIMARY KEY,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    step BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS mypages_by_creator ON mypages (creator_name, content_id);
CREATE TABLE IF NOT EXISTS mypage_covers (
    original_content_id TEXT NOT NULL,
    cover_content_id TEXT NOT NULL,
    PRIMARY KEY (original_content_id, cover_content_id)
);
"];

/// The steps a content goes through, in order: a status never moves back.
pub fn step(status: &str) -> i64 {
    match status {
        "APPROVED" => 1,
        "REGISTERED" => 2,
        "DELETED" => 3,
        _ => 4, // RELEASED
    }
}

/// Moves a content to `status` unless it is already further; creator and title fill in
/// from whichever event carries them, whatever its order: events reach replicas (and
/// redeliveries) out of order, and a late approval still brings the title.
pub async fn advance(
    tx: &mut Tx,
    content_id: &str,
    creator: &str,
    title: &str,
    status: &str,
) -> Result<(), sqlx::Error> {
    // One atomic upsert: two replicas applying events of one content at once serialize on
    // the row instead of reading and writing past each other.
    sqlx::query(
        "INSERT INTO mypages (content_id, creator_name, title, status, step) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (content_id) DO UPDATE SET \
         status = CASE WHEN excluded.step > mypages.step THEN excluded.status ELSE mypages.status END, \
         step = CASE WHEN excluded.step > mypages.step THEN excluded.step ELSE mypages.step END, \
         creator_name = CASE WHEN mypages.creator_name = '' THEN excluded.creator_name ELSE mypages.creator_name END, \
         title = CASE WHEN mypages.title = '' THEN excluded.title ELSE mypages.title END",
    )
    .bind(content_id.to_owned())
    .bind(creator.to_owned())
    .bind(title.to_owned())
    .bind(status.to_owned())
    .bind(step(status))
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn add_cover(tx: &mut Tx, original: &str, cover: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO mypage_covers (original_content_id, cover_content_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(original.to_owned())
        .bind(cover.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn list(
    store: &Store,
    page: Page,
    creator: &str,
) -> Result<Vec<pb::Mypage>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT content_id, creator_name, title, status FROM mypages \
         WHERE ($3 = '' OR creator_name = $3) ORDER BY content_id LIMIT $1 OFFSET $2",
    )
    .bind(page.fetch_limit())
    .bind(page.offset)
    .bind(creator.to_owned())
    .fetch_all(store.reader())
    .await?;
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let content_id: String = row.try_get("content_id")?;
        let covers: Vec<String> = sqlx::query_scalar(
            "SELECT cover_content_id FROM mypage_covers WHERE original_content_id = $1 \
             ORDER BY cover_content_id LIMIT $2",
        )
        .bind(content_id.clone())
        .bind(COVERS_SHOWN)
        .fetch_all(store.reader())
        .await?;
        pages.push(pb::Mypage {
            content_id,
            creator_name: row.try_get("creator_name")?,
            title: row.try_get("title")?,
            status: row.try_get("status")?,
            cover_content_ids: covers,
        });
    }
    Ok(pages)
}
