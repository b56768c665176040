//! The view's own tables: one row per order (its customer and product) and one per step
//! reached. Inserts only, each keeping the earliest time of a step, so duplicates and
//! reordering change nothing.
use mediamesh_mesh::storage::page::{Keyset, given_filters};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{STEPS, Step, View};

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS os_orders (
    join_order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    product TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS os_orders_by_customer ON os_orders (customer_id, join_order_id);
CREATE TABLE IF NOT EXISTS os_steps (
    join_order_id TEXT NOT NULL,
    step TEXT NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (join_order_id, step)
);
"];

pub const VIEWS: &[&str] = &["os_orders", "os_steps"];

/// Records that `join_order_id` reached `step` at `time` (the earliest time is kept).
pub async fn record(
    tx: &mut Tx,
    join_order_id: &str,
    customer_id: &str,
    product: &str,
    step: Step,
    time: &str,
) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO os_orders (join_order_id, customer_id, product) VALUES ($1, $2, $3) \
         ON CONFLICT (join_order_id) DO UPDATE SET product = excluded.product \
         WHERE os_orders.product = '' AND excluded.product <> ''",
    )
    .bind(join_order_id.to_owned())
    .bind(customer_id.to_owned())
    .bind(product.to_owned())
    .execute(tx.conn())
    .await?;
    sql::query(
        "INSERT INTO os_steps (join_order_id, step, time) VALUES ($1, $2, $3) \
         ON CONFLICT (join_order_id, step) DO UPDATE SET time = excluded.time \
         WHERE excluded.time < os_steps.time",
    )
    .bind(join_order_id.to_owned())
    .bind(step.as_str())
    .bind(time.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An order's row as listed: id, customer, product and its view.
pub struct Listed {
    pub join_order_id: String,
    pub customer_id: String,
    pub product: String,
    pub view: View,
}

async fn view(store: &Store, join_order_id: &str) -> Result<View, sqlx::Error> {
    let rows = sql::query("SELECT step, time FROM os_steps WHERE join_order_id = $1 LIMIT $2")
        .bind(join_order_id.to_owned())
        .bind(STEPS as i64)
        .fetch_all(store.reader())
        .await?;
    let mut steps = Vec::with_capacity(rows.len());
    for row in rows {
        let step: String = row.try_get("step")?;
        let step = Step::parse(&step)
            .ok_or_else(|| sqlx::Error::Decode(format!("step {step:?}").into()))?;
        steps.push((step, row.try_get("time")?));
    }
    Ok(View::new(steps))
}

async fn with_views(store: &Store, rows: Vec<sql::Row>) -> Result<Vec<Listed>, sqlx::Error> {
    let mut all = Vec::with_capacity(rows.len());
    for row in rows {
        let join_order_id: String = row.try_get("join_order_id")?;
        let view = view(store, &join_order_id).await?;
        all.push(Listed {
            join_order_id,
            customer_id: row.try_get("customer_id")?,
            product: row.try_get("product")?,
            view,
        });
    }
    Ok(all)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Listed>, sqlx::Error> {
    let rows = sql::query(
        "SELECT join_order_id, customer_id, product FROM os_orders WHERE join_order_id = $1",
    )
    .bind(id.to_owned())
    .fetch_all(store.reader())
    .await?;
    Ok(with_views(store, rows).await?.pop())
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 the
/// key): a customer's orders seek os_orders_by_customer, all orders walk the primary key
/// (one statement with `($n = '' OR customer_id = $n)` would walk it for a customer too).
pub(crate) fn list_statement(customer_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(3, &[("customer_id", customer_id)]);
    let sql = format!(
        "SELECT join_order_id, customer_id, product FROM os_orders \
         WHERE join_order_id > $2{filter} ORDER BY join_order_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    customer_id: &str,
) -> Result<Vec<Listed>, sqlx::Error> {
    let (text, filters) = list_statement(customer_id);
    let rows = page.fetch(store, &text, &[""], filters).await?;
    with_views(store, rows).await
}
