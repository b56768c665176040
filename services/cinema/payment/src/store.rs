//! The payment table.
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

pub const APPROVED: &str = "APPROVED";
pub const CANCELLED: &str = "CANCELLED";

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS payments (
    rsv_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    pay_status TEXT NOT NULL
);
"];

const SELECT: &str =
    "SELECT rsv_id, movie_id, customer_id, amount, pay_status FROM payments WHERE rsv_id = $1";

fn payment(row: &sqlx::any::AnyRow) -> Result<pb::Payment, sqlx::Error> {
    Ok(pb::Payment {
        rsv_id: row.try_get("rsv_id")?,
        movie_id: row.try_get("movie_id")?,
        customer_id: row.try_get("customer_id")?,
        amount: row.try_get::<i64, _>("amount")? as i32,
        pay_status: row.try_get("pay_status")?,
    })
}

pub async fn get(store: &Store, rsv_id: &str) -> Result<Option<pb::Payment>, sqlx::Error> {
    sqlx::query(SELECT)
        .bind(rsv_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| payment(&r))
        .transpose()
}

pub async fn get_in(tx: &mut Tx, rsv_id: &str) -> Result<Option<pb::Payment>, sqlx::Error> {
    sqlx::query(SELECT)
        .bind(rsv_id.to_owned())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| payment(&r))
        .transpose()
}

/// Records the payment unless the reservation has one; true when recorded.
pub async fn insert(tx: &mut Tx, p: &pb::Payment) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO payments (rsv_id, movie_id, customer_id, amount, pay_status) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(p.rsv_id.clone())
    .bind(p.movie_id.clone())
    .bind(p.customer_id.clone())
    .bind(i64::from(p.amount))
    .bind(p.pay_status.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Cancels an approved payment; true when it was approved.
pub async fn cancel(tx: &mut Tx, rsv_id: &str) -> Result<bool, sqlx::Error> {
    let cancelled = sqlx::query("UPDATE payments SET pay_status = 'CANCELLED' WHERE rsv_id = $1 AND pay_status = 'APPROVED'")
        .bind(rsv_id.to_owned())
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(cancelled == 1)
}
