//! The copyright table.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Approval, Copyright, Status};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS copyrights (
    content_id TEXT PRIMARY KEY,
    creator_name TEXT NOT NULL,
    title TEXT NOT NULL,
    original_content_id TEXT NOT NULL,
    status TEXT NOT NULL,
    approved_at TEXT NOT NULL
);
",
    // The whole request is kept, so a reused key with another request is told apart from a
    // retry; voids (never approved) are marked as such. Earlier voids are the rows without
    // a title (an approval always has one).
    "
ALTER TABLE copyrights ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE copyrights ADD COLUMN voided BIGINT NOT NULL DEFAULT 0;
UPDATE copyrights SET voided = 1 WHERE status = 'RELEASED' AND title = '';
",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS copyrights_by_approved ON copyrights (approved_at, content_id);",
];

const COLUMNS: &str = "content_id, creator_name, title, kind, original_content_id, status, voided";

fn copyright(row: &sql::Row) -> Result<Copyright, sqlx::Error> {
    let voided: i64 = row.try_get("voided")?;
    let status: String = row.try_get("status")?;
    let approval = Approval {
        content_id: row.try_get("content_id")?,
        creator_name: row.try_get("creator_name")?,
        title: row.try_get("title")?,
        kind: row.try_get("kind")?,
        original_content_id: row.try_get("original_content_id")?,
    };
    let status = Status::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?;
    Ok(Copyright::restore(approval, status, voided != 0))
}

#[async_trait::async_trait]
impl Keyed for Copyright {
    /// Records the copyright unless its content already has a record. A concurrent insert
    /// of the same key waits for the other to commit, then does nothing.
    async fn insert(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let a = self.approval();
        let inserted = sql::query(&format!(
            "INSERT INTO copyrights ({COLUMNS}, approved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        ))
        .bind(a.content_id.clone())
        .bind(a.creator_name.clone())
        .bind(a.title.clone())
        .bind(a.kind.clone())
        .bind(a.original_content_id.clone())
        .bind(self.status().as_str())
        .bind(i64::from(self.voided()))
        .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn recorded(&self, tx: &mut Tx) -> Result<Option<Copyright>, sqlx::Error> {
        sql::query(&format!(
            "SELECT {COLUMNS} FROM copyrights WHERE content_id = $1"
        ))
        .bind(self.approval().content_id.clone())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| copyright(&r))
        .transpose()
    }
}

/// Reads a copyright and locks it until the transaction ends (an UPDATE takes the row lock
/// on PostgreSQL; SQLite has one writer), so a transition decided on it cannot be lost.
pub async fn lock(tx: &mut Tx, content_id: &str) -> Result<Option<Copyright>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE copyrights SET status = status WHERE content_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(content_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| copyright(&r))
    .transpose()
}

/// Writes a copyright's new status after a transition.
pub async fn save(tx: &mut Tx, c: &Copyright) -> Result<(), sqlx::Error> {
    sql::query("UPDATE copyrights SET status = $2 WHERE content_id = $1")
        .bind(c.approval().content_id.clone())
        .bind(c.status().as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn list(
    store: &Store,
    page: &Keyset,
) -> Result<Vec<(Vec<String>, Copyright)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(&format!(
        "SELECT {COLUMNS}, approved_at FROM copyrights WHERE (approved_at, content_id) > ($2, $3) \
         ORDER BY approved_at, content_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["approved_at", "content_id"])?, copyright(r)?)))
    .collect()
}
