//! Installation's table. Every change locks the row first (an UPDATE takes the row lock on
//! PostgreSQL; SQLite has one writer), so a withdrawal and the installer's completion of the
//! same order are decided one after the other, never both.
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Installation, Status, Work};

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS installations (
    join_order_id TEXT PRIMARY KEY,
    installer_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    address TEXT NOT NULL,
    product TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS installations_by_installer ON installations (installer_id, join_order_id);
"];

const COLUMNS: &str = "join_order_id, installer_id, customer_id, address, product, status, version";

fn installation(row: &sql::Row) -> Result<Installation, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Installation::restore(
        row.try_get("join_order_id")?,
        Work {
            installer_id: row.try_get("installer_id")?,
            customer_id: row.try_get("customer_id")?,
            address: row.try_get("address")?,
            product: row.try_get("product")?,
        },
        Status::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?,
        row.try_get("version")?,
    ))
}

/// Inserts the installation unless the order has one (or was withdrawn in advance).
pub async fn insert(tx: &mut Tx, i: &Installation) -> Result<bool, sqlx::Error> {
    let w = i.work();
    let inserted = sql::query(&format!(
        "INSERT INTO installations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(i.id().to_owned())
    .bind(w.installer_id.clone())
    .bind(w.customer_id.clone())
    .bind(w.address.clone())
    .bind(w.product.clone())
    .bind(i.status().as_str())
    .bind(i.version())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The installation, its row locked until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Installation>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE installations SET version = version WHERE join_order_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| installation(&r))
    .transpose()
}

/// Saves a locked installation's change.
pub async fn save(tx: &mut Tx, i: &Installation) -> Result<(), sqlx::Error> {
    sql::query("UPDATE installations SET status = $1, version = $2 WHERE join_order_id = $3")
        .bind(i.status().as_str())
        .bind(i.version())
        .bind(i.id().to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Installation>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM installations WHERE join_order_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| installation(&r))
    .transpose()
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 the
/// key): an installer's installations seek installations_by_installer, all of them walk the
/// primary key (one statement with `($n = '' OR installer_id = $n)` would walk it for an
/// installer too).
pub(crate) fn list_statement(installer_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(3, &[("installer_id", installer_id)]);
    let sql = format!(
        "SELECT {COLUMNS} FROM installations WHERE join_order_id > $2{filter} \
         ORDER BY join_order_id LIMIT $1"
    );
    (sql, values)
}

/// An installer's installations (withdrawn-in-advance ones have no installer and are not
/// listed unless every installation is asked for).
pub async fn list(
    store: &Store,
    page: &Keyset,
    installer_id: &str,
) -> Result<Vec<(Vec<String>, Installation)>, sqlx::Error> {
    let (text, filters) = list_statement(installer_id);
    page.fetch(store, &text, &[""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["join_order_id"])?, installation(r)?)))
        .collect()
}
