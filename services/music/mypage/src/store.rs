//! The mypage's own tables (the read model).
use mediamesh_mesh::storage::page::{Keyset, given_filters};
use mediamesh_mesh::{Migration, Store, Tx, sql};
use mediamesh_proto::music::v1 as pb;

use crate::domain::{COVERS_SHOWN, Cover, Progress, Step};

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

/// Applies `p` to its content's page. Insert first, then lock and merge: two replicas
/// applying events of one content at once serialize on the row (the insert waits for the
/// other's, the lock holds the row) instead of reading and writing past each other.
pub async fn advance(tx: &mut Tx, p: &Progress) -> Result<(), sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO mypages (content_id, creator_name, title, status, step) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(p.content_id.clone())
    .bind(p.creator_name.clone())
    .bind(p.title.clone())
    .bind(p.step.as_str())
    .bind(p.step.rank())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(());
    }
    let Some(page) = lock(tx, &p.content_id).await? else {
        return Ok(());
    };
    let page = page.then(p.clone());
    sql::query(
        "UPDATE mypages SET creator_name = $2, title = $3, status = $4, step = $5 \
         WHERE content_id = $1",
    )
    .bind(page.content_id)
    .bind(page.creator_name)
    .bind(page.title)
    .bind(page.step.as_str())
    .bind(page.step.rank())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Reads a page and locks it until the transaction ends (an UPDATE takes the row lock on
/// PostgreSQL; SQLite has one writer).
async fn lock(tx: &mut Tx, content_id: &str) -> Result<Option<Progress>, sqlx::Error> {
    let Some(row) = sql::query(
        "UPDATE mypages SET step = step WHERE content_id = $1 \
         RETURNING content_id, creator_name, title, status",
    )
    .bind(content_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    let step = Step::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?;
    Ok(Some(Progress {
        content_id: row.try_get("content_id")?,
        creator_name: row.try_get("creator_name")?,
        title: row.try_get("title")?,
        step,
    }))
}

pub async fn add_cover(tx: &mut Tx, c: &Cover) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO mypage_covers (original_content_id, cover_content_id) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(c.original_content_id.clone())
    .bind(c.cover_content_id.clone())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 the
/// key): a creator's pages seek mypages_by_creator, all pages walk the primary key (one
/// statement with `($n = '' OR creator_name = $n)` would walk it for a creator too).
pub(crate) fn list_statement(creator: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(3, &[("creator_name", creator)]);
    let sql = format!(
        "SELECT content_id, creator_name, title, status FROM mypages \
         WHERE content_id > $2{filter} ORDER BY content_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    creator: &str,
) -> Result<Vec<pb::Mypage>, sqlx::Error> {
    let (text, filters) = list_statement(creator);
    let rows = page.fetch(store, &text, &[""], filters).await?;
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let content_id: String = row.try_get("content_id")?;
        let covers: Vec<String> = sql::query_scalar(
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
