//! Notification's tables: the notifications (keyed by the change they tell of) and the
//! webhook deliveries still pending (written in the consumer's transaction, sent later by
//! the delivery task, removed once the webhook took them).
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Migration, Store, Tx, sql};
use mediamesh_proto::video::v1 as pb;

use crate::domain::Notice;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    message TEXT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_client
    ON notifications (client_id, create_time, notification_id);
CREATE TABLE IF NOT EXISTS notification_pending (
    notification_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    due_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_pending_due ON notification_pending (due_ms);
"];

/// Writes a notification unless it is written already; true if it is new.
pub async fn insert(tx: &mut Tx, n: &Notice, create_time: &str) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO notifications (notification_id, client_id, kind, subject_id, message, \
         create_time) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(n.notification_id().to_owned())
    .bind(n.client_id().to_owned())
    .bind(n.kind().as_str())
    .bind(n.subject_id().to_owned())
    .bind(n.message().to_owned())
    .bind(create_time.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Queues a webhook delivery, due at once.
pub async fn queue(tx: &mut Tx, notification_id: &str, payload: &str) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO notification_pending (notification_id, payload, attempts, due_ms) \
         VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING",
    )
    .bind(notification_id.to_owned())
    .bind(payload.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A pending webhook delivery.
pub struct Pending {
    pub notification_id: String,
    pub payload: String,
    pub attempts: i64,
    pub due_ms: i64,
}

/// The deliveries due at `now_ms`, oldest first, at most `limit`.
pub async fn due(store: &Store, now_ms: i64, limit: i64) -> Result<Vec<Pending>, sqlx::Error> {
    sql::query(
        "SELECT notification_id, payload, attempts, due_ms FROM notification_pending \
         WHERE due_ms <= $1 ORDER BY due_ms, notification_id LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| {
        Ok(Pending {
            notification_id: r.try_get("notification_id")?,
            payload: r.try_get("payload")?,
            attempts: r.try_get("attempts")?,
            due_ms: r.try_get("due_ms")?,
        })
    })
    .collect()
}

/// Takes a due delivery for `until_ms` (another instance's pass skips it meanwhile); false if
/// another instance took it first.
pub async fn claim(store: &Store, p: &Pending, until_ms: i64) -> Result<bool, sqlx::Error> {
    let claimed = sql::query(
        "UPDATE notification_pending SET due_ms = $3 WHERE notification_id = $1 AND due_ms = $2",
    )
    .bind(p.notification_id.clone())
    .bind(p.due_ms)
    .bind(until_ms)
    .execute(store.writer())
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

pub async fn delivered(store: &Store, notification_id: &str) -> Result<(), sqlx::Error> {
    sql::query("DELETE FROM notification_pending WHERE notification_id = $1")
        .bind(notification_id.to_owned())
        .execute(store.writer())
        .await?;
    Ok(())
}

pub async fn retry_at(
    store: &Store,
    notification_id: &str,
    attempts: i64,
    due_ms: i64,
) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE notification_pending SET attempts = $2, due_ms = $3 WHERE notification_id = $1",
    )
    .bind(notification_id.to_owned())
    .bind(attempts)
    .bind(due_ms)
    .execute(store.writer())
    .await?;
    Ok(())
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    client_id: &str,
) -> Result<Vec<pb::Notification>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(
        "SELECT notification_id, client_id, kind, subject_id, message, create_time \
         FROM notifications WHERE client_id = $2 AND (create_time, notification_id) > ($3, $4) \
         ORDER BY create_time, notification_id LIMIT $1",
    )
    .bind(page.fetch_limit())
    .bind(client_id.to_owned())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| {
        Ok(pb::Notification {
            notification_id: r.try_get("notification_id")?,
            client_id: r.try_get("client_id")?,
            kind: r.try_get("kind")?,
            subject_id: r.try_get("subject_id")?,
            message: r.try_get("message")?,
            create_time: r.try_get("create_time")?,
        })
    })
    .collect()
}
