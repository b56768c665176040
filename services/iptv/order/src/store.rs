//! Order's table: the join orders. Changes are optimistic (saved only over the version they
//! were read at), so a cancellation and an event about the same order never overwrite each
//! other.
use mediamesh_mesh::events::once::Keyed;
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Application, Cancel, JoinOrder, Product, Status};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS join_orders (
    join_order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    address TEXT NOT NULL,
    region TEXT NOT NULL,
    product TEXT NOT NULL,
    status TEXT NOT NULL,
    cancel_status TEXT NOT NULL,
    create_time TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS join_orders_by_customer ON join_orders (customer_id, create_time);
CREATE INDEX IF NOT EXISTS join_orders_by_time ON join_orders (create_time);
",
    // Keyset paging in creation order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS join_orders_by_key ON join_orders (create_time, join_order_id);",
    // A customer's orders in list order, sought with the whole sort key (the index on
    // (customer_id, create_time) it replaces left ties on create_time to a sort).
    "
CREATE INDEX IF NOT EXISTS join_orders_by_customer_key ON join_orders (customer_id, create_time, join_order_id);
DROP INDEX IF EXISTS join_orders_by_customer;
",
];

const COLUMNS: &str = "join_order_id, customer_id, customer_name, address, region, product, \
                       status, cancel_status, create_time, version";

fn decode(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

fn order(row: &sql::Row) -> Result<JoinOrder, sqlx::Error> {
    let product: String = row.try_get("product")?;
    let status: String = row.try_get("status")?;
    let cancel: String = row.try_get("cancel_status")?;
    Ok(JoinOrder::restore(
        row.try_get("join_order_id")?,
        Application {
            customer_id: row.try_get("customer_id")?,
            customer_name: row.try_get("customer_name")?,
            address: row.try_get("address")?,
            region: row.try_get("region")?,
            product: Product::parse(&product)
                .ok_or_else(|| decode(format!("product {product:?}")))?,
        },
        Status::parse(&status).ok_or_else(|| decode(format!("status {status:?}")))?,
        Cancel::parse(&cancel).ok_or_else(|| decode(format!("cancel_status {cancel:?}")))?,
        row.try_get("create_time")?,
        row.try_get("version")?,
    ))
}

#[async_trait::async_trait]
impl Keyed for JoinOrder {
    async fn insert(&self, tx: &mut Tx) -> Result<bool, sqlx::Error> {
        let a = self.application();
        let inserted = sql::query(&format!(
            "INSERT INTO join_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(self.id().to_owned())
        .bind(a.customer_id.clone())
        .bind(a.customer_name.clone())
        .bind(a.address.clone())
        .bind(a.region.clone())
        .bind(a.product.as_str())
        .bind(self.status().as_str())
        .bind(self.cancel().as_str())
        .bind(self.create_time().to_owned())
        .bind(self.version())
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn recorded(&self, tx: &mut Tx) -> Result<Option<JoinOrder>, sqlx::Error> {
        get_in(tx, self.id()).await
    }
}

/// Saves a change if the row is still at the version it was read at.
pub async fn save(tx: &mut Tx, o: &JoinOrder, read_at: i64) -> Result<bool, sqlx::Error> {
    let updated = sql::query(
        "UPDATE join_orders SET status = $1, cancel_status = $2, version = $3 \
         WHERE join_order_id = $4 AND version = $5",
    )
    .bind(o.status().as_str())
    .bind(o.cancel().as_str())
    .bind(o.version())
    .bind(o.id().to_owned())
    .bind(read_at)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<JoinOrder>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM join_orders WHERE join_order_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| order(&r))
    .transpose()
}

pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<JoinOrder>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM join_orders WHERE join_order_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| order(&r))
    .transpose()
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a customer's orders seek join_orders_by_customer_key, all orders walk
/// join_orders_by_key (one statement with `($n = '' OR customer_id = $n)` would walk it for
/// a customer too).
pub(crate) fn list_statement(customer_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("customer_id", customer_id)]);
    let sql = format!(
        "SELECT {COLUMNS} FROM join_orders WHERE (create_time, join_order_id) > ($2, $3)\
         {filter} ORDER BY create_time, join_order_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    customer_id: &str,
) -> Result<Vec<(Vec<String>, JoinOrder)>, sqlx::Error> {
    let (text, filters) = list_statement(customer_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "join_order_id"])?, order(r)?)))
        .collect()
}
