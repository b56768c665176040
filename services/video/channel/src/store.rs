//! Channel's tables: the channels (a deleted channel keeps its row so its id stays retired
//! and its version keeps counting) and one row per video it has heard of, at the video's
//! latest version. Changes are decided by the domain on a locked row (an UPDATE takes the
//! row lock on PostgreSQL; SQLite has one writer).
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use sqlx::Row;

use crate::domain::{Channel, CountedVideo};

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS channels (
    channel_id TEXT PRIMARY KEY,
    channel_name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    total_view BIGINT NOT NULL,
    video_count BIGINT NOT NULL,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS channels_by_client ON channels (client_id, create_time);
CREATE TABLE IF NOT EXISTS channel_videos (
    video_id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    view_count BIGINT NOT NULL,
    live BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS channel_videos_by_channel ON channel_videos (channel_id, live);
"];

const COLUMNS: &str = "channel_id, channel_name, client_id, total_view, video_count, version";

fn channel(row: &sqlx::any::AnyRow) -> Result<Channel, sqlx::Error> {
    Ok(Channel::restore(
        row.try_get("channel_id")?,
        row.try_get("channel_name")?,
        row.try_get("client_id")?,
        row.try_get("total_view")?,
        row.try_get("video_count")?,
        row.try_get("version")?,
    ))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Channel>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM channels WHERE channel_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| channel(&r))
    .transpose()
}

pub async fn list(store: &Store, page: Page, client_id: &str) -> Result<Vec<Channel>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM channels WHERE deleted = 0 AND ($3 = '' OR client_id = $3) \
         ORDER BY create_time, channel_id LIMIT $1 OFFSET $2"
    ))
    .bind(page.fetch_limit())
    .bind(page.offset)
    .bind(client_id.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(channel)
    .collect()
}

/// Records a new channel; false if the id is taken, by a live channel or a deleted one.
pub async fn insert(tx: &mut Tx, c: &Channel) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO channels ({COLUMNS}, deleted, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7) ON CONFLICT DO NOTHING"
    ))
    .bind(c.id().to_owned())
    .bind(c.name().to_owned())
    .bind(c.client_id().to_owned())
    .bind(c.total_view())
    .bind(c.video_count())
    .bind(c.version())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a live channel and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Channel>, sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE channels SET version = version WHERE channel_id = $1 AND deleted = 0 \
         RETURNING {COLUMNS}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| channel(&r))
    .transpose()
}

/// Writes a locked channel after a transition (`deleted`: for good).
pub async fn save(tx: &mut Tx, c: &Channel, deleted: bool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE channels SET channel_name = $2, total_view = $3, video_count = $4, \
         version = $5, deleted = $6 WHERE channel_id = $1",
    )
    .bind(c.id().to_owned())
    .bind(c.name().to_owned())
    .bind(c.total_view())
    .bind(c.video_count())
    .bind(c.version())
    .bind(i64::from(deleted))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Locks channel's row of a video, inserting a stand-in first (so a concurrent first event
/// about the same video waits for this one instead of missing the row).
pub async fn lock_video(tx: &mut Tx, video_id: &str) -> Result<CountedVideo, sqlx::Error> {
    let unheard = CountedVideo::unheard(video_id);
    sqlx::query(
        "INSERT INTO channel_videos (video_id, channel_id, view_count, live, version) \
         VALUES ($1, '', 0, 0, $2) ON CONFLICT DO NOTHING",
    )
    .bind(video_id.to_owned())
    .bind(unheard.version())
    .execute(tx.conn())
    .await?;
    let row = sqlx::query(
        "UPDATE channel_videos SET version = version WHERE video_id = $1 \
         RETURNING video_id, channel_id, view_count, live, version",
    )
    .bind(video_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    Ok(CountedVideo::restore(
        row.try_get("video_id")?,
        row.try_get("channel_id")?,
        row.try_get("view_count")?,
        row.try_get::<i64, _>("live")? != 0,
        row.try_get("version")?,
    ))
}

pub async fn save_video(tx: &mut Tx, v: &CountedVideo) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE channel_videos SET channel_id = $2, view_count = $3, live = $4, version = $5 \
         WHERE video_id = $1",
    )
    .bind(v.video_id().to_owned())
    .bind(v.channel_id().to_owned())
    .bind(v.view_count())
    .bind(i64::from(v.is_live()))
    .bind(v.version())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The views and count of a channel's live videos, as channel has heard of them.
pub async fn sum_videos(tx: &mut Tx, channel_id: &str) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(view_count), 0) AS BIGINT) AS total, COUNT(*) AS n \
         FROM channel_videos WHERE channel_id = $1 AND live = 1",
    )
    .bind(channel_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    Ok((row.try_get("total")?, row.try_get("n")?))
}
