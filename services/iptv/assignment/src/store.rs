//! The desk's tables: the installers and one assignment per join order. Every change locks
//! the assignment row first (an UPDATE takes the row lock on PostgreSQL; SQLite has one
//! writer), so the desk, the cancellation's answer and the installer's events are applied
//! one after the other.
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Assignment, Cancel, Installer, Order, Status};

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS installers (
    installer_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS installers_by_region ON installers (region, installer_id);
CREATE TABLE IF NOT EXISTS assignments (
    join_order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    address TEXT NOT NULL,
    region TEXT NOT NULL,
    product TEXT NOT NULL,
    installer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    cancel_status TEXT NOT NULL,
    cancel_time TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS assignments_cancelling ON assignments (cancel_status, cancel_time);
"];

const COLUMNS: &str = "join_order_id, customer_id, address, region, product, installer_id, \
                       status, cancel_status, cancel_time, version";

fn decode(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

fn assignment(row: &sql::Row) -> Result<Assignment, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let cancel: String = row.try_get("cancel_status")?;
    Ok(Assignment::restore(
        row.try_get("join_order_id")?,
        Order {
            customer_id: row.try_get("customer_id")?,
            address: row.try_get("address")?,
            region: row.try_get("region")?,
            product: row.try_get("product")?,
        },
        row.try_get("installer_id")?,
        (
            Status::parse(&status).ok_or_else(|| decode(format!("status {status:?}")))?,
            Cancel::parse(&cancel).ok_or_else(|| decode(format!("cancel_status {cancel:?}")))?,
            row.try_get("cancel_time")?,
        ),
        row.try_get("version")?,
    ))
}

fn installer(row: &sql::Row) -> Result<Installer, sqlx::Error> {
    Ok(Installer {
        installer_id: row.try_get("installer_id")?,
        name: row.try_get("name")?,
        region: row.try_get("region")?,
    })
}

/// Records the installer unless its id is taken; the recorded one either way.
pub async fn add_installer(store: &Store, i: Installer) -> Result<(bool, Installer), sqlx::Error> {
    store
        .write(move |tx| {
            let i = i.clone();
            Box::pin(async move {
                let inserted = sql::query(
                    "INSERT INTO installers (installer_id, name, region) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(i.installer_id.clone())
                .bind(i.name.clone())
                .bind(i.region.clone())
                .execute(tx.conn())
                .await?
                .rows_affected();
                let row = sql::query(
                    "SELECT installer_id, name, region FROM installers WHERE installer_id = $1",
                )
                .bind(i.installer_id.clone())
                .fetch_one(tx.conn())
                .await?;
                Ok((inserted == 1, installer(&row)?))
            })
        })
        .await
}

pub async fn get_installer(store: &Store, id: &str) -> Result<Option<Installer>, sqlx::Error> {
    sql::query("SELECT installer_id, name, region FROM installers WHERE installer_id = $1")
        .bind(id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| installer(&r))
        .transpose()
}

/// The installer listing's statement and the filter values bound after the key ($1 limit,
/// $2 the key): a region's installers seek installers_by_region, all installers walk the
/// primary key (one statement with `($n = '' OR region = $n)` would walk it for a region).
pub(crate) fn installers_statement(region: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(3, &[("region", region)]);
    let sql = format!(
        "SELECT installer_id, name, region FROM installers WHERE installer_id > $2{filter} \
         ORDER BY installer_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list_installers(
    store: &Store,
    page: &Keyset,
    region: &str,
) -> Result<Vec<(Vec<String>, Installer)>, sqlx::Error> {
    let (text, filters) = installers_statement(region);
    page.fetch(store, &text, &[""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["installer_id"])?, installer(r)?)))
        .collect()
}

/// Records a join order at the desk unless it is there already.
pub async fn insert(tx: &mut Tx, a: &Assignment) -> Result<bool, sqlx::Error> {
    let o = a.order();
    let inserted = sql::query(&format!(
        "INSERT INTO assignments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(a.id().to_owned())
    .bind(o.customer_id.clone())
    .bind(o.address.clone())
    .bind(o.region.clone())
    .bind(o.product.clone())
    .bind(a.installer_id().to_owned())
    .bind(a.status().as_str())
    .bind(a.cancel().as_str())
    .bind(a.cancel_time().to_owned())
    .bind(a.version())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The assignment, its row locked until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Assignment>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE assignments SET version = version WHERE join_order_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| assignment(&r))
    .transpose()
}

/// Saves a locked assignment's change.
pub async fn save(tx: &mut Tx, a: &Assignment) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE assignments SET installer_id = $1, status = $2, cancel_status = $3, \
         cancel_time = $4, version = $5 WHERE join_order_id = $6",
    )
    .bind(a.installer_id().to_owned())
    .bind(a.status().as_str())
    .bind(a.cancel().as_str())
    .bind(a.cancel_time().to_owned())
    .bind(a.version())
    .bind(a.id().to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Assignment>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM assignments WHERE join_order_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| assignment(&r))
    .transpose()
}

pub async fn list(
    store: &Store,
    page: &Keyset,
) -> Result<Vec<(Vec<String>, Assignment)>, sqlx::Error> {
    let after = page.after_or(&[""]);
    sql::query(&format!(
        "SELECT {COLUMNS} FROM assignments WHERE join_order_id > $2 ORDER BY join_order_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["join_order_id"])?, assignment(r)?)))
    .collect()
}

/// Cancellations requested before `cutoff` and not answered yet, oldest first.
pub async fn cancelling_before(
    store: &Store,
    cutoff: &str,
) -> Result<Vec<Assignment>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM assignments WHERE cancel_status = 'CANCEL_REQUESTED' \
         AND cancel_time < $1 ORDER BY cancel_time LIMIT 100"
    ))
    .bind(cutoff.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(assignment)
    .collect()
}
