//! Mileage's tables: one account per customer and a ledger of credited purchases (so a
//! reversal takes back exactly what was credited).
use mediamesh_mesh::{Migration, Store, Tx};
use sqlx::Row;

use crate::domain::Account;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS mileages (
    customer_id TEXT PRIMARY KEY,
    points BIGINT NOT NULL,
    credits_issued BIGINT NOT NULL,
    credits_used BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS mileage_ledger (
    purchase_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    reversed BIGINT NOT NULL
);
"];

const SELECT: &str =
    "SELECT customer_id, points, credits_issued, credits_used FROM mileages WHERE customer_id = $1";

fn account(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        customer_id: row.try_get("customer_id")?,
        points: row.try_get("points")?,
        credits_issued: row.try_get("credits_issued")?,
        credits_used: row.try_get("credits_used")?,
    })
}

pub async fn get(store: &Store, customer_id: &str) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(SELECT)
        .bind(customer_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| account(&r))
        .transpose()
}

/// The account, or a fresh one (saved by `save`).
pub async fn load(tx: &mut Tx, customer_id: &str) -> Result<Account, sqlx::Error> {
    let row = sqlx::query(SELECT)
        .bind(customer_id.to_owned())
        .fetch_optional(tx.conn())
        .await?;
    match row {
        Some(row) => account(&row),
        None => Ok(Account::new(customer_id)),
    }
}

pub async fn save(tx: &mut Tx, a: &Account) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mileages (customer_id, points, credits_issued, credits_used) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id) DO UPDATE SET \
         points = excluded.points, credits_issued = excluded.credits_issued, \
         credits_used = excluded.credits_used",
    )
    .bind(a.customer_id.clone())
    .bind(a.points)
    .bind(a.credits_issued)
    .bind(a.credits_used)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn record_credit(
    tx: &mut Tx,
    purchase_id: &str,
    customer_id: &str,
    points: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mileage_ledger (purchase_id, customer_id, points, reversed) VALUES ($1, $2, $3, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(purchase_id.to_owned())
    .bind(customer_id.to_owned())
    .bind(points)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks a purchase's credit reversed; returns the points to take back (None if there was
/// no credit or it was reversed already).
pub async fn take_reversal(tx: &mut Tx, purchase_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query(
        "UPDATE mileage_ledger SET reversed = 1 WHERE purchase_id = $1 AND reversed = 0 RETURNING points",
    )
    .bind(purchase_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.try_get("points"))
    .transpose()
}
