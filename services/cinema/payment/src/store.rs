//! The payment table. A row is a payment made by `Pay`, or a void: the mark a failed or
//! cancelled reservation leaves when no payment exists yet, so a late `Pay` with the same
//! key cannot approve it.
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

pub const APPROVED: &str = "APPROVED";
pub const CANCELLED: &str = "CANCELLED";

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

const SELECT: &str = "SELECT rsv_id, movie_id, customer_id, amount, pay_status, voided \
     FROM payments WHERE rsv_id = $1";

/// A recorded payment, and whether it is a void.
pub struct Recorded {
    pub payment: pb::Payment,
    pub voided: bool,
}

fn recorded(row: &sqlx::any::AnyRow) -> Result<Recorded, sqlx::Error> {
    Ok(Recorded {
        payment: pb::Payment {
            rsv_id: row.try_get("rsv_id")?,
            movie_id: row.try_get("movie_id")?,
            customer_id: row.try_get("customer_id")?,
            amount: row.try_get::<i64, _>("amount")? as i32,
            pay_status: row.try_get("pay_status")?,
        },
        voided: row.try_get::<i64, _>("voided")? == 1,
    })
}

pub async fn get(store: &Store, rsv_id: &str) -> Result<Option<pb::Payment>, sqlx::Error> {
    sqlx::query(SELECT)
        .bind(rsv_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| recorded(&r).map(|r| r.payment))
        .transpose()
}

pub async fn get_in(tx: &mut Tx, rsv_id: &str) -> Result<Option<Recorded>, sqlx::Error> {
    sqlx::query(SELECT)
        .bind(rsv_id.to_owned())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| recorded(&r))
        .transpose()
}

/// Records the payment (or void) unless the reservation has one; true when recorded. On
/// PostgreSQL an insert of a key another transaction is inserting waits for it, then
/// conflicts: whoever comes second sees the first's row.
pub async fn insert(tx: &mut Tx, p: &pb::Payment, voided: bool) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO payments (rsv_id, movie_id, customer_id, amount, pay_status, voided) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(p.rsv_id.clone())
    .bind(p.movie_id.clone())
    .bind(p.customer_id.clone())
    .bind(i64::from(p.amount))
    .bind(p.pay_status.clone())
    .bind(i64::from(voided))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Cancels an approved payment; true when it was approved.
pub async fn cancel(tx: &mut Tx, rsv_id: &str) -> Result<bool, sqlx::Error> {
    let cancelled = sqlx::query(
        "UPDATE payments SET pay_status = 'CANCELLED' WHERE rsv_id = $1 AND pay_status = 'APPROVED'",
    )
    .bind(rsv_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(cancelled == 1)
}
