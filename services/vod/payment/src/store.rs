//! The payment's table.
use mediamesh_mesh::{Migration, Store, Tx};
use sqlx::Row;

use crate::domain::Payment;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS payments (
    purchase_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    vod_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    free_vod BIGINT NOT NULL,
    pay_status TEXT NOT NULL,
    version BIGINT NOT NULL
);
"];

const COLUMNS: &str = "purchase_id, customer_id, vod_id, amount, free_vod, pay_status";

fn payment(row: &sqlx::any::AnyRow) -> Result<Payment, sqlx::Error> {
    Ok(Payment {
        purchase_id: row.try_get("purchase_id")?,
        customer_id: row.try_get("customer_id")?,
        vod_id: row.try_get("vod_id")?,
        amount: row.try_get("amount")?,
        free_vod: row.try_get::<i64, _>("free_vod")? != 0,
        status: row.try_get("pay_status")?,
    })
}

pub async fn get(store: &Store, purchase_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE purchase_id = $1"
    ))
    .bind(purchase_id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| payment(&r))
    .transpose()
}

pub async fn get_in(tx: &mut Tx, purchase_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE purchase_id = $1"
    ))
    .bind(purchase_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| payment(&r))
    .transpose()
}

/// Inserts the payment unless its purchase already has one; true when inserted.
pub async fn insert(tx: &mut Tx, p: &Payment) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO payments ({COLUMNS}, version) VALUES ($1, $2, $3, $4, $5, $6, 1) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(p.purchase_id.clone())
    .bind(p.customer_id.clone())
    .bind(p.vod_id.clone())
    .bind(p.amount)
    .bind(p.free_vod as i64)
    .bind(p.status.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Moves an approved payment to cancelled in one statement; returns the new version and
/// the payment, or None if it was not approved.
pub async fn cancel(tx: &mut Tx, purchase_id: &str) -> Result<Option<(i64, Payment)>, sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE payments SET pay_status = 'CANCELLED', version = version + 1 \
         WHERE purchase_id = $1 AND pay_status = 'APPROVED' RETURNING version, {COLUMNS}"
    ))
    .bind(purchase_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| Ok((r.try_get("version")?, payment(&r)?)))
    .transpose()
}
