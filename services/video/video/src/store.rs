//! Video's tables: the videos (a deleted video keeps its row, so its id stays retired and its
//! version keeps counting) and its replica of the channels, fed by versioned channel events.
//! Changes are decided by the domain on a locked row (an UPDATE takes the row lock on
//! PostgreSQL; SQLite has one writer).
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{ReplicaChannel, Status, Video, Views};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS videos (
    video_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    title TEXT NOT NULL,
    view_count BIGINT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_by_channel ON videos (channel_id, deleted);
CREATE TABLE IF NOT EXISTS video_channels (
    channel_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
",
    // Keyset paging in creation order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS videos_by_create ON videos (create_time, video_id);",
    // A channel's or a client's videos in list order, sought rather than filtered out of
    // every video (with both filters given, either index seeks).
    "
CREATE INDEX IF NOT EXISTS videos_by_channel_key ON videos (channel_id, create_time, video_id);
CREATE INDEX IF NOT EXISTS videos_by_client ON videos (client_id, create_time, video_id);
",
];

const COLUMNS: &str = "video_id, client_id, channel_id, title, view_count, status, version";

fn video(row: &sql::Row) -> Result<Video, sqlx::Error> {
    let views: i64 = row.try_get("view_count")?;
    let views =
        Views::new(views).map_err(|_| sqlx::Error::Decode(format!("views {views}").into()))?;
    let status: String = row.try_get("status")?;
    let status = Status::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?;
    Ok(Video::restore(
        row.try_get("video_id")?,
        row.try_get("client_id")?,
        row.try_get("channel_id")?,
        row.try_get("title")?,
        views,
        status,
        row.try_get("version")?,
    ))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Video>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM videos WHERE video_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| video(&r))
    .transpose()
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a channel's or a client's videos seek videos_by_channel_key or videos_by_client,
/// all videos walk videos_by_create (one statement with `($n = '' OR channel_id = $n)` would
/// walk it for a filter too).
pub(crate) fn list_statement(channel_id: &str, client_id: &str) -> (String, Vec<String>) {
    let given = [("channel_id", channel_id), ("client_id", client_id)];
    let (filter, values) = given_filters(4, &given);
    let sql = format!(
        "SELECT {COLUMNS}, create_time FROM videos WHERE deleted = 0{filter} \
         AND (create_time, video_id) > ($2, $3) ORDER BY create_time, video_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    channel_id: &str,
    client_id: &str,
) -> Result<Vec<(Vec<String>, Video)>, sqlx::Error> {
    let (text, filters) = list_statement(channel_id, client_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "video_id"])?, video(r)?)))
        .collect()
}

/// Records a new video; false if the id is taken, by a live video or a deleted one.
pub async fn insert(tx: &mut Tx, v: &Video) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO videos ({COLUMNS}, deleted, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) ON CONFLICT DO NOTHING"
    ))
    .bind(v.id().to_owned())
    .bind(v.client_id().to_owned())
    .bind(v.channel_id().to_owned())
    .bind(v.title().to_owned())
    .bind(v.views().get())
    .bind(v.status().as_str())
    .bind(v.version())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a live video and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Video>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE videos SET version = version WHERE video_id = $1 AND deleted = 0 \
         RETURNING {COLUMNS}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| video(&r))
    .transpose()
}

/// The live videos of a channel, locked (a deleted channel takes them all).
pub async fn lock_in_channel(tx: &mut Tx, channel_id: &str) -> Result<Vec<Video>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE videos SET version = version WHERE channel_id = $1 AND deleted = 0 \
         RETURNING {COLUMNS}"
    ))
    .bind(channel_id.to_owned())
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(video)
    .collect()
}

/// Writes a locked video after a transition (`deleted`: for good).
pub async fn save(tx: &mut Tx, v: &Video, deleted: bool) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE videos SET channel_id = $2, title = $3, view_count = $4, status = $5, \
         version = $6, deleted = $7 WHERE video_id = $1",
    )
    .bind(v.id().to_owned())
    .bind(v.channel_id().to_owned())
    .bind(v.title().to_owned())
    .bind(v.views().get())
    .bind(v.status().as_str())
    .bind(v.version())
    .bind(i64::from(deleted))
    .execute(tx.conn())
    .await?;
    Ok(())
}

fn replica(row: &sql::Row) -> Result<ReplicaChannel, sqlx::Error> {
    Ok(ReplicaChannel::restore(
        row.try_get("channel_id")?,
        row.try_get("client_id")?,
        row.try_get("version")?,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// What the replica knows of a channel (`None`: not heard of).
pub async fn channel(
    store: &Store,
    channel_id: &str,
) -> Result<Option<ReplicaChannel>, sqlx::Error> {
    sql::query(
        "SELECT channel_id, client_id, version, deleted FROM video_channels WHERE channel_id = $1",
    )
    .bind(channel_id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| replica(&r))
    .transpose()
}

/// Locks the replica's row of a channel, inserting a stand-in (not heard of) first so a
/// concurrent first event or upload about it waits for this one.
pub async fn lock_channel(tx: &mut Tx, channel_id: &str) -> Result<ReplicaChannel, sqlx::Error> {
    let unheard = ReplicaChannel::unheard(channel_id);
    sql::query(
        "INSERT INTO video_channels (channel_id, client_id, version, deleted) \
         VALUES ($1, '', $2, 0) ON CONFLICT DO NOTHING",
    )
    .bind(channel_id.to_owned())
    .bind(unheard.version())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE video_channels SET version = version WHERE channel_id = $1 \
         RETURNING channel_id, client_id, version, deleted",
    )
    .bind(channel_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    replica(&row)
}

/// Writes the replica's row of a channel locked by `lock_channel`.
pub async fn save_channel(tx: &mut Tx, c: &ReplicaChannel) -> Result<(), sqlx::Error> {
    sql::query("UPDATE video_channels SET client_id = $2, version = $3, deleted = $4 WHERE channel_id = $1")
        .bind(c.channel_id().to_owned())
        .bind(c.client_id().to_owned())
        .bind(c.version())
        .bind(i64::from(c.is_deleted()))
        .execute(tx.conn())
        .await?;
    Ok(())
}
