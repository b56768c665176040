//! Client's tables: the clients (a deleted client keeps its row so its id stays retired) and
//! the refund requests; each channel's share of its client's total, at the channel's latest
//! version, is a part (`mediamesh_mesh::events::parts`) of scope `CHANNELS`. Changes are decided by the domain on a locked row (an UPDATE takes the
//! row lock on PostgreSQL; SQLite has one writer).
use mediamesh_mesh::events::parts;
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Client, Refund, RefundStatus};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    total_view BIGINT NOT NULL,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refund_requests (
    refund_request_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total_view BIGINT NOT NULL,
    refund_policy BIGINT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refund_requests_by_client ON refund_requests (client_id, create_time);
",
    // Keyset paging in creation order (the whole sort key in each index).
    "CREATE INDEX IF NOT EXISTS clients_by_create ON clients (create_time, client_id);
CREATE INDEX IF NOT EXISTS refund_requests_by_create ON refund_requests (create_time, refund_request_id);",
    // A client's refund requests in list order, sought with the whole sort key (the index
    // on (client_id, create_time) it replaces left ties on create_time to a sort).
    "
CREATE INDEX IF NOT EXISTS refund_requests_by_client_key
    ON refund_requests (client_id, create_time, refund_request_id);
DROP INDEX IF EXISTS refund_requests_by_client;
",
];

/// The channels, each a part of its client's total.
pub const CHANNELS: &str = "channels";

fn client(row: &sql::Row) -> Result<Client, sqlx::Error> {
    Ok(Client::restore(
        row.try_get("client_id")?,
        row.try_get("total_view")?,
        row.try_get("version")?,
    ))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Client>, sqlx::Error> {
    sql::query(
        "SELECT client_id, total_view, version FROM clients WHERE client_id = $1 AND deleted = 0",
    )
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| client(&r))
    .transpose()
}

pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<(Vec<String>, Client)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(
        "SELECT client_id, total_view, version, create_time FROM clients WHERE deleted = 0 \
         AND (create_time, client_id) > ($2, $3) ORDER BY create_time, client_id LIMIT $1",
    )
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["create_time", "client_id"])?, client(r)?)))
    .collect()
}

/// Records a new client; false if the id is taken, by a live client or a deleted one.
pub async fn insert(tx: &mut Tx, c: &Client) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO clients (client_id, total_view, version, deleted, create_time) \
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
    )
    .bind(c.id().to_owned())
    .bind(c.total_view())
    .bind(c.version())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a live client and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Client>, sqlx::Error> {
    sql::query(
        "UPDATE clients SET version = version WHERE client_id = $1 AND deleted = 0 \
         RETURNING client_id, total_view, version",
    )
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| client(&r))
    .transpose()
}

/// Writes a locked client after a transition (`deleted`: for good).
pub async fn save(tx: &mut Tx, c: &Client, deleted: bool) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE clients SET total_view = $2, version = $3, deleted = $4 WHERE client_id = $1",
    )
    .bind(c.id().to_owned())
    .bind(c.total_view())
    .bind(c.version())
    .bind(i64::from(deleted))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The sum of a client's live channels' totals, as client has heard of them.
pub async fn sum_channels(tx: &mut Tx, client_id: &str) -> Result<i64, sqlx::Error> {
    Ok(parts::sum(tx, CHANNELS, client_id).await?.0)
}

const REFUND: &str = "refund_request_id, client_id, status, total_view, refund_policy";

fn refund(row: &sql::Row) -> Result<Refund, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let status = RefundStatus::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("refund status {status:?}").into()))?;
    Ok(Refund::restore(
        row.try_get("refund_request_id")?,
        row.try_get("client_id")?,
        status,
        row.try_get("total_view")?,
        row.try_get("refund_policy")?,
    ))
}

/// Records a refund request; false if the id is taken.
pub async fn insert_refund(tx: &mut Tx, r: &Refund) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO refund_requests ({REFUND}, create_time) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(r.id().to_owned())
    .bind(r.client_id().to_owned())
    .bind(r.status().as_str())
    .bind(r.total_view())
    .bind(r.refund_policy())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get_refund(store: &Store, id: &str) -> Result<Option<Refund>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {REFUND} FROM refund_requests WHERE refund_request_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| refund(&r))
    .transpose()
}

/// Reads a refund request and locks it until the transaction ends.
pub async fn lock_refund(tx: &mut Tx, id: &str) -> Result<Option<Refund>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE refund_requests SET status = status WHERE refund_request_id = $1 RETURNING {REFUND}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| refund(&r))
    .transpose()
}

pub async fn save_refund(tx: &mut Tx, r: &Refund) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE refund_requests SET status = $2, total_view = $3, refund_policy = $4 \
         WHERE refund_request_id = $1",
    )
    .bind(r.id().to_owned())
    .bind(r.status().as_str())
    .bind(r.total_view())
    .bind(r.refund_policy())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The refund listing's statement and the filter values bound after the key ($1 limit, $2
/// and $3 the key): a client's requests seek refund_requests_by_client_key, all requests
/// walk refund_requests_by_create (one statement with `($n = '' OR client_id = $n)` would
/// walk it for a client too).
pub(crate) fn refunds_statement(client_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("client_id", client_id)]);
    let sql = format!(
        "SELECT {REFUND}, create_time FROM refund_requests \
         WHERE (create_time, refund_request_id) > ($2, $3){filter} \
         ORDER BY create_time, refund_request_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list_refunds(
    store: &Store,
    page: &Keyset,
    client_id: &str,
) -> Result<Vec<(Vec<String>, Refund)>, sqlx::Error> {
    let (text, filters) = refunds_statement(client_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| {
            Ok((
                key_of(r, &["create_time", "refund_request_id"])?,
                refund(r)?,
            ))
        })
        .collect()
}
