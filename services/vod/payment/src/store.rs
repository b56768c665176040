//! The payment's table.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{PayRequest, PayStatus, Payment, Won};

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

const COLUMNS: &str = "purchase_id, customer_id, vod_id, amount, free_vod, pay_status, version";

fn payment(row: &sql::Row) -> Result<Payment, sqlx::Error> {
    let status: String = row.try_get("pay_status")?;
    let request = PayRequest {
        purchase_id: row.try_get("purchase_id")?,
        customer_id: row.try_get("customer_id")?,
        vod_id: row.try_get("vod_id")?,
        amount: Won::new(row.try_get("amount")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        free_vod: row.try_get::<i64, _>("free_vod")? != 0,
    };
    let status = PayStatus::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("pay_status {status:?}").into()))?;
    Ok(Payment::restore(request, status, row.try_get("version")?))
}

pub async fn get(store: &Store, purchase_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE purchase_id = $1"
    ))
    .bind(purchase_id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| payment(&r))
    .transpose()
}

/// Reads a payment and locks it until the transaction ends (an UPDATE takes the row lock on
/// PostgreSQL; SQLite has one writer), so a transition decided on it cannot be lost.
pub async fn lock(tx: &mut Tx, purchase_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE payments SET version = version WHERE purchase_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(purchase_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| payment(&r))
    .transpose()
}

/// Writes a payment's new state after a transition.
pub async fn save(tx: &mut Tx, p: &Payment) -> Result<(), sqlx::Error> {
    sql::query("UPDATE payments SET pay_status = $2, version = $3 WHERE purchase_id = $1")
        .bind(p.request().purchase_id.clone())
        .bind(p.status().as_str())
        .bind(p.version())
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Keyed for Payment {
    /// Inserts the payment unless its purchase already has one.
    async fn insert(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let r = self.request();
        let inserted = sql::query(&format!(
            "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(r.purchase_id.clone())
        .bind(r.customer_id.clone())
        .bind(r.vod_id.clone())
        .bind(i64::from(r.amount.get()))
        .bind(r.free_vod as i64)
        .bind(self.status().as_str())
        .bind(self.version())
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn recorded(&self, tx: &mut Tx) -> Result<Option<Payment>, sqlx::Error> {
        sql::query(&format!(
            "SELECT {COLUMNS} FROM payments WHERE purchase_id = $1"
        ))
        .bind(self.request().purchase_id.clone())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| payment(&r))
        .transpose()
    }
}
