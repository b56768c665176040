//! Comment's own tables: the comments (a deleted one keeps its row, without its contents, so
//! its id is retired) and its replica of the videos. Changes are decided by the domain on a
//! locked row (an UPDATE takes the row lock on PostgreSQL; SQLite has one writer).
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Comment, ReplicaVideo};

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS comments (
    comment_id TEXT PRIMARY KEY,
    video_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    contents TEXT NOT NULL,
    create_time TEXT NOT NULL,
    deleted BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_by_video ON comments (video_id, create_time, comment_id);
CREATE TABLE IF NOT EXISTS comment_videos (
    video_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    gone BIGINT NOT NULL
);
"];

const COMMENT: &str = "comment_id, video_id, client_id, contents, create_time, deleted";

fn comment(row: &sql::Row) -> Result<Comment, sqlx::Error> {
    Ok(Comment::restore(
        row.try_get("comment_id")?,
        row.try_get("video_id")?,
        row.try_get("client_id")?,
        row.try_get("contents")?,
        row.try_get("create_time")?,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// Records a comment; false if the id is taken, by a live comment or a deleted one.
pub async fn insert(tx: &mut Tx, c: &Comment) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO comments ({COMMENT}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
    ))
    .bind(c.comment_id().to_owned())
    .bind(c.video_id().to_owned())
    .bind(c.client_id().to_owned())
    .bind(c.contents().to_owned())
    .bind(c.create_time().to_owned())
    .bind(i64::from(c.is_deleted()))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a comment and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Comment>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE comments SET deleted = deleted WHERE comment_id = $1 RETURNING {COMMENT}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| comment(&r))
    .transpose()
}

/// Writes a comment's state after a transition.
pub async fn save(tx: &mut Tx, c: &Comment) -> Result<(), sqlx::Error> {
    sql::query("UPDATE comments SET contents = $2, deleted = $3 WHERE comment_id = $1")
        .bind(c.comment_id().to_owned())
        .bind(c.contents().to_owned())
        .bind(i64::from(c.is_deleted()))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A gone video loses its comments (their ids stay retired).
pub async fn delete_of_video(tx: &mut Tx, video_id: &str) -> Result<u64, sqlx::Error> {
    Ok(sql::query(
        "UPDATE comments SET deleted = 1, contents = '' WHERE video_id = $1 AND deleted = 0",
    )
    .bind(video_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected())
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Comment>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COMMENT} FROM comments WHERE comment_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| comment(&r))
    .transpose()
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    video_id: &str,
) -> Result<Vec<(Vec<String>, Comment)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(&format!(
        "SELECT {COMMENT} FROM comments WHERE deleted = 0 AND video_id = $3 \
         AND (create_time, comment_id) > ($2, $4) ORDER BY create_time, comment_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(video_id.to_owned())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["create_time", "comment_id"])?, comment(r)?)))
    .collect()
}

fn replica(row: &sql::Row) -> Result<ReplicaVideo, sqlx::Error> {
    Ok(ReplicaVideo::restore(
        row.try_get("video_id")?,
        row.try_get("version")?,
        row.try_get::<i64, _>("gone")? != 0,
    ))
}

/// What the replica knows of a video (`None`: not heard of).
pub async fn video(store: &Store, video_id: &str) -> Result<Option<ReplicaVideo>, sqlx::Error> {
    sql::query(
        "SELECT video_id, version, gone FROM comment_videos WHERE video_id = $1 AND version >= 0",
    )
    .bind(video_id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| replica(&r))
    .transpose()
}

/// Locks the replica's row of a video; `None` if not heard of (then `save_video` records
/// it). Insert first, then lock: the insert of a stand-in (version -1) waits for a
/// concurrent insert of the same video, so the lock always finds the row it must change,
/// and a comment being written and its video's removal serialize on this row.
pub async fn lock_video(tx: &mut Tx, video_id: &str) -> Result<Option<ReplicaVideo>, sqlx::Error> {
    sql::query(
        "INSERT INTO comment_videos (video_id, version, gone) VALUES ($1, -1, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(video_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE comment_videos SET version = version WHERE video_id = $1 \
         RETURNING video_id, version, gone",
    )
    .bind(video_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    Ok(Some(replica(&row)?).filter(|v| v.version() >= 0))
}

/// Writes the replica's row of a video locked by `lock_video`.
pub async fn save_video(tx: &mut Tx, v: &ReplicaVideo) -> Result<(), sqlx::Error> {
    sql::query("UPDATE comment_videos SET version = $2, gone = $3 WHERE video_id = $1")
        .bind(v.video_id().to_owned())
        .bind(v.version())
        .bind(i64::from(v.is_gone()))
        .execute(tx.conn())
        .await?;
    Ok(())
}
