//! Policy's tables: the policies (a deleted one keeps its row so its id stays retired), the
//! video versions already checked, and the refund decisions (one per request). Changes are
//! decided by the domain on a locked row (an UPDATE takes the row lock on PostgreSQL; SQLite
//! has one writer).
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Decision, Policy};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS policies (
    policy_id TEXT PRIMARY KEY,
    refund_policy BIGINT NOT NULL,
    delete_video_id TEXT NOT NULL,
    banned_words TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_videos (
    video_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_refunds (
    refund_request_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_view BIGINT NOT NULL,
    refund_policy BIGINT NOT NULL
);
",
    // Keyset paging in creation order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS policies_by_create ON policies (create_time, policy_id);",
];

const POLICY: &str = "policy_id, refund_policy, delete_video_id, banned_words, version, deleted";

// Words are one-line names (no control characters), so a newline separates them.
fn words(joined: String) -> Vec<String> {
    joined
        .split('\n')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn policy(row: &sql::Row) -> Result<Policy, sqlx::Error> {
    Ok(Policy::restore(
        row.try_get("policy_id")?,
        row.try_get("refund_policy")?,
        row.try_get("delete_video_id")?,
        words(row.try_get("banned_words")?),
        row.try_get("version")?,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// Records a new policy; false if the id is taken, by a live policy or a deleted one.
pub async fn insert(tx: &mut Tx, p: &Policy) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO policies ({POLICY}, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(p.policy_id().to_owned())
    .bind(p.refund_policy())
    .bind(p.delete_video_id().to_owned())
    .bind(p.banned_words().join("\n"))
    .bind(p.version())
    .bind(i64::from(p.is_deleted()))
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a policy and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Policy>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE policies SET version = version WHERE policy_id = $1 RETURNING {POLICY}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| policy(&r))
    .transpose()
}

/// Writes a policy's state after a transition.
pub async fn save(tx: &mut Tx, p: &Policy) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE policies SET refund_policy = $2, delete_video_id = $3, banned_words = $4, \
         version = $5, deleted = $6 WHERE policy_id = $1",
    )
    .bind(p.policy_id().to_owned())
    .bind(p.refund_policy())
    .bind(p.delete_video_id().to_owned())
    .bind(p.banned_words().join("\n"))
    .bind(p.version())
    .bind(i64::from(p.is_deleted()))
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Policy>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {POLICY} FROM policies WHERE policy_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| policy(&r))
    .transpose()
}

pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<(Vec<String>, Policy)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(&format!(
        "SELECT {POLICY}, create_time FROM policies WHERE deleted = 0 \
         AND (create_time, policy_id) > ($2, $3) ORDER BY create_time, policy_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["create_time", "policy_id"])?, policy(r)?)))
    .collect()
}

/// The live policies that ban words, read inside a consumer's transaction (every title is
/// checked against them all; policies without banned words are not read).
pub async fn banning(tx: &mut Tx) -> Result<Vec<Policy>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {POLICY} FROM policies WHERE deleted = 0 AND banned_words <> '' \
         ORDER BY policy_id"
    ))
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(policy)
    .collect()
}

/// The most lenient live policy's refund bar, the lowest `refund_policy` (`None`: no live
/// policy).
pub async fn lenient_bar(tx: &mut Tx) -> Result<Option<i64>, sqlx::Error> {
    let row = sql::query("SELECT MIN(refund_policy) AS bar FROM policies WHERE deleted = 0")
        .fetch_one(tx.conn())
        .await?;
    row.try_get::<Option<i64>, _>("bar")
}

/// The video version last checked (`None`: never seen), the row locked until the
/// transaction ends. Insert first, then lock, so two deliveries about one video serialize.
pub async fn lock_video(tx: &mut Tx, video_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sql::query(
        "INSERT INTO policy_videos (video_id, version) VALUES ($1, -1) ON CONFLICT DO NOTHING",
    )
    .bind(video_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE policy_videos SET version = version WHERE video_id = $1 RETURNING version",
    )
    .bind(video_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let version: i64 = row.try_get("version")?;
    Ok((version >= 0).then_some(version))
}

pub async fn save_video(tx: &mut Tx, video_id: &str, version: i64) -> Result<(), sqlx::Error> {
    sql::query("UPDATE policy_videos SET version = $2 WHERE video_id = $1")
        .bind(video_id.to_owned())
        .bind(version)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Records a refund decision; false if the request was decided already.
pub async fn insert_refund(tx: &mut Tx, d: &Decision) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO policy_refunds (refund_request_id, client_id, status, total_view, \
         refund_policy) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(d.refund_request_id.clone())
    .bind(d.client_id.clone())
    .bind(d.verdict.as_str())
    .bind(d.total_view)
    .bind(d.refund_policy)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
