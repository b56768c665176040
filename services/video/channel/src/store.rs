//! Channel's tables: its replica of the clients (fed by client events) and the channels (a deleted channel keeps its row so its id stays retired
//! and its version keeps counting; the videos it has heard of are the mesh's parts). Changes
//! are decided by the domain on a locked row (an UPDATE takes the row lock on PostgreSQL;
//! SQLite has one writer).
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::Channel;
use crate::replica::ReplicaClient;

pub const MIGRATIONS: &[Migration] = &[
    "
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
",
    "
CREATE TABLE IF NOT EXISTS channel_clients (
    client_id TEXT PRIMARY KEY,
    heard BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
",
    // Keyset paging of all channels in creation order.
    "CREATE INDEX IF NOT EXISTS channels_by_create ON channels (create_time, channel_id);",
    // A client's channels in list order, sought with the whole sort key (the index on
    // (client_id, create_time) it replaces left ties on create_time to a sort).
    "
CREATE INDEX IF NOT EXISTS channels_by_client_key ON channels (client_id, create_time, channel_id);
DROP INDEX IF EXISTS channels_by_client;
",
];

const COLUMNS: &str = "channel_id, channel_name, client_id, total_view, video_count, version";

fn channel(row: &sql::Row) -> Result<Channel, sqlx::Error> {
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
    sql::query(&format!(
        "SELECT {COLUMNS} FROM channels WHERE channel_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| channel(&r))
    .transpose()
}

/// A page of channels (of one client when given) in creation order, each with its sort key,
/// continued after the previous page's last (create_time, channel_id).
pub async fn list(
    store: &Store,
    page: &Keyset,
    client_id: &str,
) -> Result<Vec<(Vec<String>, Channel)>, sqlx::Error> {
    let (text, filters) = list_statement(client_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "channel_id"])?, channel(r)?)))
        .collect()
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a client's channels seek channels_by_client_key, all channels walk
/// channels_by_create (one statement with `($n = '' OR client_id = $n)` would walk it for a
/// client too).
pub(crate) fn list_statement(client_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("client_id", client_id)]);
    let sql = format!(
        "SELECT {COLUMNS}, create_time FROM channels WHERE deleted = 0{filter} \
         AND (create_time, channel_id) > ($2, $3) ORDER BY create_time, channel_id LIMIT $1"
    );
    (sql, values)
}

/// Records a new channel; false if the id is taken, by a live channel or a deleted one.
pub async fn insert(tx: &mut Tx, c: &Channel) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
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
    sql::query(&format!(
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
    sql::query(
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

/// The live channels of a client, locked (a deleted client takes them all).
pub async fn lock_of_client(tx: &mut Tx, client_id: &str) -> Result<Vec<Channel>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE channels SET version = version WHERE client_id = $1 AND deleted = 0 \
         RETURNING {COLUMNS}"
    ))
    .bind(client_id.to_owned())
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(channel)
    .collect()
}

fn replica(row: &sql::Row) -> Result<ReplicaClient, sqlx::Error> {
    Ok(ReplicaClient::restore(
        row.try_get("client_id")?,
        row.try_get::<i64, _>("heard")? != 0,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// What the replica knows of a client (`None`: not heard of).
pub async fn client(store: &Store, client_id: &str) -> Result<Option<ReplicaClient>, sqlx::Error> {
    sql::query("SELECT client_id, heard, deleted FROM channel_clients WHERE client_id = $1")
        .bind(client_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| replica(&r))
        .transpose()
}

/// Locks the replica's row of a client, inserting a stand-in (not heard of) first so a
/// concurrent event or opening about it waits for this one.
pub async fn lock_client(tx: &mut Tx, client_id: &str) -> Result<ReplicaClient, sqlx::Error> {
    sql::query(
        "INSERT INTO channel_clients (client_id, heard, deleted) VALUES ($1, 0, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(client_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE channel_clients SET heard = heard WHERE client_id = $1 \
         RETURNING client_id, heard, deleted",
    )
    .bind(client_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    replica(&row)
}

/// Writes the replica's row of a client locked by `lock_client`.
pub async fn save_client(tx: &mut Tx, c: &ReplicaClient) -> Result<(), sqlx::Error> {
    sql::query("UPDATE channel_clients SET heard = $2, deleted = $3 WHERE client_id = $1")
        .bind(c.client_id().to_owned())
        .bind(i64::from(c.is_heard()))
        .bind(i64::from(c.is_deleted()))
        .execute(tx.conn())
        .await?;
    Ok(())
}
