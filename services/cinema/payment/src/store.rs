//! The payment table. A row is a payment made by `Pay`, or a void: the mark a failed or
//! cancelled reservation leaves when no payment exists yet.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{PayRequest, PayStatus, Payment, Won};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS payments (
    rsv_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    pay_status TEXT NOT NULL
);
",
    // 1 for a void: its amount is unknown (0), so a later `Pay` is compared without it.
    "ALTER TABLE payments ADD COLUMN voided BIGINT NOT NULL DEFAULT 0",
];

const COLUMNS: &str = "rsv_id, movie_id, customer_id, amount, pay_status, voided";

fn decode(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}

fn payment(row: &sql::Row) -> Result<Payment, sqlx::Error> {
    let status: String = row.try_get("pay_status")?;
    let request = PayRequest {
        rsv_id: row.try_get("rsv_id")?,
        movie_id: row.try_get("movie_id")?,
        customer_id: row.try_get("customer_id")?,
        amount: Won::new(row.try_get("amount")?).map_err(|e| decode(e.to_string()))?,
    };
    let status =
        PayStatus::parse(&status).ok_or_else(|| decode(format!("pay_status {status:?}")))?;
    let voided = row.try_get::<i64, _>("voided")? == 1;
    Ok(Payment::restore(request, status, voided))
}

pub async fn get(store: &Store, rsv_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sql::query(&format!("SELECT {COLUMNS} FROM payments WHERE rsv_id = $1"))
        .bind(rsv_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| payment(&r))
        .transpose()
}

/// Reads a payment and locks it until the transaction ends (an UPDATE takes the row lock on
/// PostgreSQL; SQLite has one writer), so a transition decided on it cannot be lost.
pub async fn lock(tx: &mut Tx, rsv_id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE payments SET pay_status = pay_status WHERE rsv_id = $1 RETURNING {COLUMNS}"
    ))
    .bind(rsv_id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| payment(&r))
    .transpose()
}

/// Writes a payment's new status after a transition.
pub async fn save(tx: &mut Tx, p: &Payment) -> Result<(), sqlx::Error> {
    sql::query("UPDATE payments SET pay_status = $2 WHERE rsv_id = $1")
        .bind(p.request().rsv_id.clone())
        .bind(p.status().as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Keyed for Payment {
    /// Records the payment (or void) unless the reservation has one. On PostgreSQL an insert
    /// of a key another transaction is inserting waits for it, then conflicts.
    async fn insert(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let r = self.request();
        let inserted = sql::query(&format!(
            "INSERT INTO payments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(r.rsv_id.clone())
        .bind(r.movie_id.clone())
        .bind(r.customer_id.clone())
        .bind(i64::from(r.amount.get()))
        .bind(self.status().as_str())
        .bind(i64::from(self.is_void()))
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn recorded(&self, tx: &mut Tx) -> Result<Option<Payment>, sqlx::Error> {
        sql::query(&format!("SELECT {COLUMNS} FROM payments WHERE rsv_id = $1"))
            .bind(self.request().rsv_id.clone())
            .fetch_optional(tx.conn())
            .await?
            .map(|r| payment(&r))
            .transpose()
    }
}
