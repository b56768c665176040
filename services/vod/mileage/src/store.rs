//! Mileage's tables: one account per customer and a ledger of the purchases it has seen (so
//! a reversal takes back exactly what was credited, and a reversal that came first leaves a
//! marker the late credit finds).
//!
//! Replicas share the tables, so nothing here reads a value to write it back unlocked: the
//! ledger is insert-then-check, and an account is locked by the statement that reads it.
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::Account;

pub const MIGRATIONS: &[Migration] = &[
    "
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
",
    // Free purchases are in the ledger too (a credit spent, given back on reversal).
    "ALTER TABLE mileage_ledger ADD COLUMN free_vod BIGINT NOT NULL DEFAULT 0;",
    // Every change of an account raises its version, carried by the events it raises.
    "ALTER TABLE mileages ADD COLUMN version BIGINT NOT NULL DEFAULT 0;",
];

const COLUMNS: &str = "customer_id, points, credits_issued, credits_used";

fn account(row: &sql::Row) -> Result<Account, sqlx::Error> {
    Ok(Account::restore(
        row.try_get("customer_id")?,
        row.try_get("points")?,
        row.try_get("credits_issued")?,
        row.try_get("credits_used")?,
    ))
}

pub async fn get(store: &Store, customer_id: &str) -> Result<Option<Account>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM mileages WHERE customer_id = $1"
    ))
    .bind(customer_id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| account(&r))
    .transpose()
}

/// The account, created empty if new, locked until the transaction ends: the upsert takes
/// the row lock (PostgreSQL waits for a replica holding it and returns its committed
/// values), so `save` cannot overwrite another replica's update.
pub async fn lock(tx: &mut Tx, customer_id: &str) -> Result<Account, sqlx::Error> {
    let row = sql::query(&format!(
        "INSERT INTO mileages ({COLUMNS}) VALUES ($1, 0, 0, 0) \
         ON CONFLICT (customer_id) DO UPDATE SET points = mileages.points RETURNING {COLUMNS}"
    ))
    .bind(customer_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    account(&row)
}

/// Saves an account read by `lock` in this transaction; returns its new version.
pub async fn save(tx: &mut Tx, a: &Account) -> Result<i64, sqlx::Error> {
    sql::query_scalar(
        "UPDATE mileages SET points = $2, credits_issued = $3, credits_used = $4, \
         version = version + 1 WHERE customer_id = $1 RETURNING version",
    )
    .bind(a.customer_id().to_owned())
    .bind(a.points())
    .bind(a.credits_issued())
    .bind(a.credits_used())
    .fetch_one(tx.conn())
    .await
}

/// Records an approved purchase; false when the ledger already has it (a duplicate, or its
/// reversal came first and left a marker): then nothing is to be credited.
pub async fn record_approval(
    tx: &mut Tx,
    purchase_id: &str,
    customer_id: &str,
    points: i64,
    free_vod: bool,
) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(
        "INSERT INTO mileage_ledger (purchase_id, customer_id, points, free_vod, reversed) \
         VALUES ($1, $2, $3, $4, 0) ON CONFLICT DO NOTHING",
    )
    .bind(purchase_id.to_owned())
    .bind(customer_id.to_owned())
    .bind(points)
    .bind(free_vod as i64)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What a reversal has to take back.
#[derive(Debug, PartialEq, Eq)]
pub enum Reversal {
    /// The purchase's credit: these points, or the free-VOD credit it spent.
    Take { points: i64, free_vod: bool },
    /// Nothing: the reversal came first (a marker now waits for the credit), or was
    /// applied already.
    Nothing,
}

/// Marks a purchase reversed. Insert first (the marker for a credit still to come), then
/// update: the insert waits for a replica crediting the same purchase, so a credit that
/// commits meanwhile is seen and taken back.
pub async fn record_reversal(
    tx: &mut Tx,
    purchase_id: &str,
    customer_id: &str,
) -> Result<Reversal, sqlx::Error> {
    let marked = sql::query(
        "INSERT INTO mileage_ledger (purchase_id, customer_id, points, free_vod, reversed) \
         VALUES ($1, $2, 0, 0, 1) ON CONFLICT DO NOTHING",
    )
    .bind(purchase_id.to_owned())
    .bind(customer_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if marked == 1 {
        return Ok(Reversal::Nothing);
    }
    let taken = sql::query(
        "UPDATE mileage_ledger SET reversed = 1 WHERE purchase_id = $1 AND reversed = 0 \
         RETURNING points, free_vod",
    )
    .bind(purchase_id.to_owned())
    .fetch_optional(tx.conn())
    .await?;
    match taken {
        Some(row) => Ok(Reversal::Take {
            points: row.try_get("points")?,
            free_vod: row.try_get::<i64, _>("free_vod")? != 0,
        }),
        None => Ok(Reversal::Nothing),
    }
}

/// A free purchase whose credit was taken back before it arrived: the ledger records its
/// price as points owed, so its reversal refunds them.
pub async fn record_debt(tx: &mut Tx, purchase_id: &str, points: i64) -> Result<(), sqlx::Error> {
    sql::query("UPDATE mileage_ledger SET points = $2, free_vod = 0 WHERE purchase_id = $1")
        .bind(purchase_id.to_owned())
        .bind(points)
        .execute(tx.conn())
        .await?;
    Ok(())
}
