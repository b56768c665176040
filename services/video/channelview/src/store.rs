//! The channel view's own tables (the read model, all listed in `views` so a rebuild
//! empties them). Every change is insert-then-lock: a row not seen yet is inserted as a
//! stand-in (version -1) first, so concurrent deliveries about one row serialize on its lock
//! (an UPDATE takes the row lock on PostgreSQL; SQLite has one writer); the domain decides,
//! and the row is written back.
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Migration, Store, Tx, sql};
use mediamesh_proto::video::v1 as pb;

use crate::domain::{
    CHANNELS_SHOWN, ChannelRow, REFUNDS_SHOWN, RefundStatus, Versioned, VideoRow, VideoStatus,
    refund_applies,
};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS cv_clients (
    client_id TEXT PRIMARY KEY,
    total_view BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS cv_channels (
    channel_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    channel_name TEXT NOT NULL,
    name_version BIGINT NOT NULL,
    total_view BIGINT NOT NULL,
    video_count BIGINT NOT NULL,
    total_version BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS cv_channels_by_client ON cv_channels (client_id, channel_id);
CREATE TABLE IF NOT EXISTS cv_videos (
    video_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    title TEXT NOT NULL,
    view_count BIGINT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS cv_videos_by_client ON cv_videos (client_id, video_id);
CREATE TABLE IF NOT EXISTS cv_refunds (
    refund_request_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    decided BIGINT NOT NULL,
    total_view BIGINT NOT NULL,
    refund_policy BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS cv_refunds_by_client ON cv_refunds (client_id, refund_request_id);
",
    // A deleted client has no screen any more (its id is retired by client).
    "ALTER TABLE cv_clients ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0",
    // The videos, newest upload first (a page at a time).
    "ALTER TABLE cv_videos ADD COLUMN upload_time TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS cv_videos_by_upload ON cv_videos (client_id, upload_time, video_id);",
];

/// The tables `mediamesh views rebuild` empties.
pub const VIEWS: &[&str] = &["cv_clients", "cv_channels", "cv_videos", "cv_refunds"];

fn decode(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

/// The client's total at `version`, unless a newer one is shown.
pub async fn client_total(
    tx: &mut Tx,
    client_id: &str,
    total_view: i64,
    version: i64,
) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO cv_clients (client_id, total_view, version) VALUES ($1, 0, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(client_id.to_owned())
    .execute(tx.conn())
    .await?;
    sql::query(
        "UPDATE cv_clients SET total_view = $2, version = $3 WHERE client_id = $1 AND version < $3",
    )
    .bind(client_id.to_owned())
    .bind(total_view)
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A client deleted: its screen is gone for good, whatever arrives after.
pub async fn client_deleted(tx: &mut Tx, client_id: &str) -> Result<(), sqlx::Error> {
    client_seen(tx, client_id).await?;
    sql::query("UPDATE cv_clients SET deleted = 1 WHERE client_id = $1")
        .bind(client_id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A client registered: shown (with no views) from now on.
pub async fn client_seen(tx: &mut Tx, client_id: &str) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO cv_clients (client_id, total_view, version) VALUES ($1, 0, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(client_id.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

const CHANNEL: &str = "channel_id, client_id, channel_name, name_version, total_view, \
                       video_count, total_version, deleted";

fn channel(row: &sql::Row) -> Result<ChannelRow, sqlx::Error> {
    let count: i64 = row.try_get("video_count")?;
    Ok(ChannelRow {
        channel_id: row.try_get("channel_id")?,
        client_id: row.try_get("client_id")?,
        channel_name: row.try_get("channel_name")?,
        name_version: Versioned(row.try_get("name_version")?),
        total_view: row.try_get("total_view")?,
        video_count: i32::try_from(count).map_err(|_| decode(format!("video_count {count}")))?,
        total_version: Versioned(row.try_get("total_version")?),
        deleted: row.try_get::<i64, _>("deleted")? != 0,
    })
}

/// Applies `change` to a channel's row; a channel not seen yet starts as a placeholder.
pub async fn change_channel(
    tx: &mut Tx,
    channel_id: &str,
    client_id: &str,
    change: impl FnOnce(&mut ChannelRow) -> bool,
) -> Result<(), sqlx::Error> {
    sql::query(&format!(
        "INSERT INTO cv_channels ({CHANNEL}) VALUES ($1, $2, '', -1, 0, 0, 0, 0) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(channel_id.to_owned())
    .bind(client_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(&format!(
        "UPDATE cv_channels SET deleted = deleted WHERE channel_id = $1 RETURNING {CHANNEL}"
    ))
    .bind(channel_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let mut ch = channel(&row)?;
    let new = ch.name_version.0 < 0;
    if new {
        ch = ChannelRow::placeholder(channel_id, client_id);
    }
    if change(&mut ch) || new {
        sql::query(
            "UPDATE cv_channels SET client_id = $2, channel_name = $3, name_version = $4, \
             total_view = $5, video_count = $6, total_version = $7, deleted = $8 \
             WHERE channel_id = $1",
        )
        .bind(ch.channel_id.clone())
        .bind(ch.client_id.clone())
        .bind(ch.channel_name.clone())
        .bind(ch.name_version.0)
        .bind(ch.total_view)
        .bind(i64::from(ch.video_count))
        .bind(ch.total_version.0)
        .bind(i64::from(ch.deleted))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

const VIDEO: &str =
    "video_id, client_id, channel_id, title, view_count, status, version, upload_time";

fn video(row: &sql::Row) -> Result<VideoRow, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(VideoRow {
        video_id: row.try_get("video_id")?,
        client_id: row.try_get("client_id")?,
        channel_id: row.try_get("channel_id")?,
        title: row.try_get("title")?,
        view_count: row.try_get("view_count")?,
        status: VideoStatus::parse(&status).ok_or_else(|| decode(format!("status {status:?}")))?,
        version: Versioned(row.try_get("version")?),
        upload_time: row.try_get("upload_time")?,
    })
}

/// Applies `change` to a video's row; a video not seen yet starts as a placeholder.
pub async fn change_video(
    tx: &mut Tx,
    video_id: &str,
    client_id: &str,
    channel_id: &str,
    change: impl FnOnce(&mut VideoRow) -> bool,
) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO cv_videos (video_id, client_id, channel_id, title, view_count, status, \
         version) VALUES ($1, $2, $3, '', 0, 'ACTIVE', -1) ON CONFLICT DO NOTHING",
    )
    .bind(video_id.to_owned())
    .bind(client_id.to_owned())
    .bind(channel_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(&format!(
        "UPDATE cv_videos SET version = version WHERE video_id = $1 RETURNING {VIDEO}"
    ))
    .bind(video_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let mut v = video(&row)?;
    let new = v.version.0 < 0;
    if new {
        v = VideoRow::placeholder(video_id, client_id, channel_id);
    }
    if change(&mut v) || new {
        sql::query(
            "UPDATE cv_videos SET client_id = $2, channel_id = $3, title = $4, view_count = $5, \
             status = $6, version = $7, upload_time = $8 WHERE video_id = $1",
        )
        .bind(v.video_id.clone())
        .bind(v.client_id.clone())
        .bind(v.channel_id.clone())
        .bind(v.title.clone())
        .bind(v.view_count)
        .bind(v.status.as_str())
        .bind(v.version.0)
        .bind(v.upload_time.clone())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// A refund's request or decision (`status` REQUESTED, APPROVED or REJECTED).
pub struct Refund<'a> {
    pub refund_request_id: &'a str,
    pub client_id: &'a str,
    pub status: &'a str,
    pub stage: RefundStatus,
    pub total_view: i64,
    pub refund_policy: i64,
}

pub async fn set_refund(tx: &mut Tx, r: &Refund<'_>) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO cv_refunds (refund_request_id, client_id, status, decided, total_view, \
         refund_policy) VALUES ($1, $2, '', -1, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(r.refund_request_id.to_owned())
    .bind(r.client_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE cv_refunds SET decided = decided WHERE refund_request_id = $1 RETURNING decided",
    )
    .bind(r.refund_request_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let current = match row.try_get::<i64, _>("decided")? {
        -1 => None,
        0 => Some(RefundStatus::Requested),
        _ => Some(RefundStatus::Decided),
    };
    if refund_applies(current, r.stage) {
        sql::query(
            "UPDATE cv_refunds SET status = $2, decided = $3, total_view = $4, \
             refund_policy = $5 WHERE refund_request_id = $1",
        )
        .bind(r.refund_request_id.to_owned())
        .bind(r.status.to_owned())
        .bind(i64::from(r.stage == RefundStatus::Decided))
        .bind(r.total_view)
        .bind(r.refund_policy)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// How many rows of `table` the client's screen counts (`shown`: the condition they meet).
async fn count(
    store: &Store,
    table: &str,
    shown: &str,
    client_id: &str,
) -> Result<i32, sqlx::Error> {
    let n: i64 = sql::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE client_id = $1 AND {shown}"
    ))
    .bind(client_id.to_owned())
    .fetch_one(store.reader())
    .await?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

const CHANNEL_SHOWN: &str = "deleted = 0 AND name_version >= 0";
const VIDEO_SHOWN: &str = "status <> 'DELETED' AND version >= 0";
const REFUND_SHOWN: &str = "decided >= 0";

/// The client's screen with one page of its videos; `None` if no event ever named the client.
pub async fn screen(
    store: &Store,
    client_id: &str,
    page: &Keyset,
) -> Result<Option<pb::ChannelView>, sqlx::Error> {
    let client = sql::query("SELECT total_view, deleted FROM cv_clients WHERE client_id = $1")
        .bind(client_id.to_owned())
        .fetch_optional(store.reader())
        .await?;
    if let Some(row) = &client
        && row.try_get::<i64, _>("deleted")? != 0
    {
        return Ok(None);
    }
    let channels: Vec<pb::ChannelViewChannel> = sql::query(&format!(
        "SELECT {CHANNEL} FROM cv_channels WHERE client_id = $1 AND {CHANNEL_SHOWN} \
         ORDER BY channel_id LIMIT $2"
    ))
    .bind(client_id.to_owned())
    .bind(CHANNELS_SHOWN)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|row| {
        let ch = channel(row)?;
        Ok(pb::ChannelViewChannel {
            channel_id: ch.channel_id,
            channel_name: ch.channel_name,
            total_view: ch.total_view,
            video_count: ch.video_count,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    // Newest first: continued below the previous page's last (upload_time, video_id); the
    // first page has no bound (an upload time may be empty, so no key sorts above all).
    let (after, bound) = match page.after() {
        Some([time, id]) => (
            vec![time.clone(), id.clone()],
            "AND (upload_time, video_id) < ($3, $4)",
        ),
        _ => (vec![String::new(), String::new()], "AND $3 = $4"),
    };
    let rows: Vec<(Vec<String>, pb::ChannelViewVideo)> = sql::query(&format!(
        "SELECT {VIDEO} FROM cv_videos WHERE client_id = $1 AND {VIDEO_SHOWN} {bound} \
         ORDER BY upload_time DESC, video_id DESC LIMIT $2"
    ))
    .bind(client_id.to_owned())
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|row| {
        let v = video(row)?;
        let key = vec![v.upload_time.clone(), v.video_id.clone()];
        Ok((
            key,
            pb::ChannelViewVideo {
                video_id: v.video_id,
                channel_id: v.channel_id,
                title: v.title,
                view_count: v.view_count,
                status: v.status.as_str().to_owned(),
            },
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let (videos, next_page_token) = page.split(rows);
    let refunds: Vec<pb::ChannelViewRefund> = sql::query(
        "SELECT refund_request_id, status, total_view, refund_policy FROM cv_refunds \
         WHERE client_id = $1 AND decided >= 0 ORDER BY refund_request_id LIMIT $2",
    )
    .bind(client_id.to_owned())
    .bind(REFUNDS_SHOWN)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|row| {
        Ok(pb::ChannelViewRefund {
            refund_request_id: row.try_get("refund_request_id")?,
            status: row.try_get("status")?,
            total_view: row.try_get("total_view")?,
            refund_policy: row.try_get("refund_policy")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let channel_count = count(store, "cv_channels", CHANNEL_SHOWN, client_id).await?;
    let video_count = count(store, "cv_videos", VIDEO_SHOWN, client_id).await?;
    let refund_count = count(store, "cv_refunds", REFUND_SHOWN, client_id).await?;
    if client.is_none() && channel_count == 0 && video_count == 0 && refund_count == 0 {
        return Ok(None);
    }
    let total_view = match client {
        Some(row) => row.try_get("total_view")?,
        None => 0,
    };
    Ok(Some(pb::ChannelView {
        client_id: client_id.to_owned(),
        total_view,
        channels,
        videos,
        refunds,
        channel_count,
        video_count,
        refund_count,
        next_page_token,
    }))
}
