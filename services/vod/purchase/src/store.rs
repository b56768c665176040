//! Purchase's tables: purchases, the catalog replica and free-VOD credits.
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Order, OrderStatus, Purchase, Vod, Won};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS purchases (
    purchase_id TEXT PRIMARY KEY,
    vod_id TEXT NOT NULL,
    vod_name TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    order_status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    free_vod BIGINT NOT NULL,
    create_time TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchases_by_time ON purchases (create_time, purchase_id);
CREATE INDEX IF NOT EXISTS purchases_by_customer ON purchases (customer_id, create_time);
CREATE INDEX IF NOT EXISTS purchases_pending ON purchases (order_status, create_time);
CREATE TABLE IF NOT EXISTS vod_replica (
    vod_id TEXT PRIMARY KEY,
    vod_name TEXT NOT NULL,
    price BIGINT NOT NULL
);
-- The catalog's seeded titles, so they are purchasable before any event arrives.
INSERT INTO vod_replica (vod_id, vod_name, price) VALUES
    ('1', 'Alive!', 1000), ('2', 'ToBusan', 1500)
ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS free_vod_credits (
    customer_id TEXT PRIMARY KEY,
    available BIGINT NOT NULL
);
",
    // Keyset paging of one customer's purchases: the whole sort key in the index.
    "CREATE INDEX IF NOT EXISTS purchases_by_customer_key ON purchases (customer_id, create_time, purchase_id);",
    // ...which makes the older (customer_id, create_time) index a redundant write per insert.
    "DROP INDEX IF EXISTS purchases_by_customer;",
];

const COLUMNS: &str = "purchase_id, vod_id, vod_name, customer_id, order_status, amount, free_vod, \
                       create_time, version";

fn purchase(row: &sql::Row) -> Result<Purchase, sqlx::Error> {
    let status: String = row.try_get("order_status")?;
    let order = Order {
        id: row.try_get("purchase_id")?,
        vod_id: row.try_get("vod_id")?,
        vod_name: row.try_get("vod_name")?,
        customer_id: row.try_get("customer_id")?,
        amount: won(row.try_get("amount")?)?,
        free_vod: row.try_get::<i64, _>("free_vod")? != 0,
        create_time: row.try_get("create_time")?,
    };
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| sqlx::Error::Decode(format!("order_status {status:?}").into()))?;
    Ok(Purchase::restore(order, status, row.try_get("version")?))
}

fn won(amount: i64) -> Result<Won, sqlx::Error> {
    Won::new(amount).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The VOD from the catalog replica and the customer's spendable free-VOD credits, in one
/// read (a purchase's only read before it writes); None when the replica lacks the VOD.
pub async fn offer(
    store: &Store,
    vod_id: &str,
    customer_id: &str,
) -> Result<Option<(Vod, i64)>, sqlx::Error> {
    let row = sql::query(
        "SELECT vod_id, vod_name, price, \
         COALESCE((SELECT available FROM free_vod_credits WHERE customer_id = $2), 0) AS credits \
         FROM vod_replica WHERE vod_id = $1",
    )
    .bind(vod_id.to_owned())
    .bind(customer_id.to_owned())
    .fetch_optional(store.reader())
    .await?;
    row.map(|r| {
        let vod = Vod {
            id: r.try_get("vod_id")?,
            name: r.try_get("vod_name")?,
            price: won(r.try_get("price")?)?,
        };
        Ok((vod, r.try_get("credits")?))
    })
    .transpose()
}

/// The customer's spendable free-VOD credits.
pub async fn credits(store: &Store, customer_id: &str) -> Result<i64, sqlx::Error> {
    let available: Option<i64> =
        sql::query_scalar("SELECT available FROM free_vod_credits WHERE customer_id = $1")
            .bind(customer_id.to_owned())
            .fetch_optional(store.reader())
            .await?;
    Ok(available.unwrap_or(0))
}

pub async fn upsert_vod(tx: &mut Tx, vod: &Vod) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO vod_replica (vod_id, vod_name, price) VALUES ($1, $2, $3) \
         ON CONFLICT (vod_id) DO UPDATE SET vod_name = excluded.vod_name, price = excluded.price",
    )
    .bind(vod.id.clone())
    .bind(vod.name.clone())
    .bind(i64::from(vod.price.get()))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Adds a free-VOD credit (issued by mileage, or given back by a cancellation).
pub async fn add_credit(tx: &mut Tx, customer_id: &str) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO free_vod_credits (customer_id, available) VALUES ($1, 1) \
         ON CONFLICT (customer_id) DO UPDATE SET available = free_vod_credits.available + 1",
    )
    .bind(customer_id.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Spends one free-VOD credit if the customer has one, in one statement: the balance never
/// goes below zero, whoever spends at the same time.
pub async fn take_credit(tx: &mut Tx, customer_id: &str) -> Result<bool, sqlx::Error> {
    let taken = sql::query(
        "UPDATE free_vod_credits SET available = available - 1 WHERE customer_id = $1 AND available > 0",
    )
    .bind(customer_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Saves what a purchase charges (a credit paid for it after it was recorded).
pub async fn save_terms(tx: &mut Tx, p: &Purchase) -> Result<(), sqlx::Error> {
    sql::query("UPDATE purchases SET amount = $1, free_vod = $2 WHERE purchase_id = $3")
        .bind(i64::from(p.order().amount.get()))
        .bind(p.order().free_vod as i64)
        .bind(p.id().to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Inserts a new purchase; false when its id is taken.
pub async fn insert(conn: &mut mediamesh_mesh::Conn, p: &Purchase) -> Result<bool, sqlx::Error> {
    let o = p.order();
    let inserted = sql::query(&format!(
        "INSERT INTO purchases ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
    ))
    .bind(o.id.clone())
    .bind(o.vod_id.clone())
    .bind(o.vod_name.clone())
    .bind(o.customer_id.clone())
    .bind(p.status().as_str())
    .bind(i64::from(o.amount.get()))
    .bind(o.free_vod as i64)
    .bind(o.create_time.clone())
    .bind(p.version())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Saves a status change made by the aggregate, if nobody changed the row meanwhile
/// (optimistic: the row must still be at `version - 1`).
pub async fn update_status(tx: &mut Tx, p: &Purchase) -> Result<bool, sqlx::Error> {
    let updated = sql::query(
        "UPDATE purchases SET order_status = $1, version = $2 WHERE purchase_id = $3 AND version = $4",
    )
    .bind(p.status().as_str())
    .bind(p.version())
    .bind(p.id().to_owned())
    .bind(p.version() - 1)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Purchase>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM purchases WHERE purchase_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| purchase(&r))
    .transpose()
}

/// A purchase read inside a transaction (after its insert conflicted: the row committed by
/// whoever took the id).
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<Purchase>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM purchases WHERE purchase_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| purchase(&r))
    .transpose()
}

/// A page of purchases (of one customer when given) in creation order, continued after the
/// previous page's last (create_time, purchase_id): an index seek at any depth.
pub async fn list(
    store: &Store,
    page: &Keyset,
    customer_id: &str,
) -> Result<Vec<Purchase>, sqlx::Error> {
    let (time, id) = match page.after() {
        Some([time, id]) => (time.clone(), id.clone()),
        _ => (String::new(), String::new()),
    };
    let rows = if customer_id.is_empty() {
        sql::query(&format!(
            "SELECT {COLUMNS} FROM purchases WHERE (create_time, purchase_id) > ($2, $3) \
             ORDER BY create_time, purchase_id LIMIT $1"
        ))
        .bind(page.fetch_limit())
        .bind(time)
        .bind(id)
        .fetch_all(store.reader())
        .await?
    } else {
        sql::query(&format!(
            "SELECT {COLUMNS} FROM purchases WHERE customer_id = $4 \
             AND (create_time, purchase_id) > ($2, $3) ORDER BY create_time, purchase_id LIMIT $1"
        ))
        .bind(page.fetch_limit())
        .bind(time)
        .bind(id)
        .bind(customer_id.to_owned())
        .fetch_all(store.reader())
        .await?
    };
    rows.iter().map(purchase).collect()
}

/// A purchase's place in `list`'s order, for the next page's token.
pub fn list_key(p: &Purchase) -> Vec<String> {
    vec![p.order().create_time.clone(), p.id().to_owned()]
}

/// Purchases still pending that were created before `cutoff` (left by a crash).
pub async fn pending_before(store: &Store, cutoff: &str) -> Result<Vec<Purchase>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM purchases WHERE order_status = 'PENDING' AND create_time < $1 \
         ORDER BY create_time LIMIT 100"
    ))
    .bind(cutoff.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(purchase)
    .collect()
}

/// Fills the store with `count` paid purchases for benchmarks (`mediamesh bench
/// --seed-purchases`): one statement, ten purchases a customer, all older than any real
/// one, ids `seed-<n>`.
pub async fn seed(store: &Store, count: i64) -> Result<(), sqlx::Error> {
    store
        .write(move |tx| {
            Box::pin(async move {
                sql::query(&format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                     INSERT INTO purchases ({COLUMNS}) \
                     SELECT 'seed-' || CAST(i AS TEXT), '2', 'ToBusan', \
                     'seed-' || CAST(i / 10 AS TEXT), 'PAID', 1500, 0, \
                     '2026-01-01T00:00:00.000000Z', 1 FROM n WHERE true ON CONFLICT DO NOTHING"
                ))
                .bind(count)
                .execute(tx.conn())
                .await?;
                Ok(())
            })
        })
        .await
}
