//! The catalog's tables.
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Price, Vod};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS vods (
    vod_id TEXT PRIMARY KEY,
    vod_name TEXT NOT NULL,
    price BIGINT NOT NULL,
    registered_at TEXT NOT NULL
);
-- The seed's two titles, there on first start.
INSERT INTO vods (vod_id, vod_name, price, registered_at) VALUES
    ('1', 'Alive!', 1000, '2020-09-01T00:00:00Z'),
    ('2', 'ToBusan', 1500, '2020-09-01T00:00:01Z')
ON CONFLICT DO NOTHING;
",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS vods_by_registered ON vods (registered_at, vod_id);",
];

fn vod(row: &sql::Row) -> Result<Vod, sqlx::Error> {
    let price = Price::new(row.try_get("price")?).map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Vod::restore(
        row.try_get("vod_id")?,
        row.try_get("vod_name")?,
        price,
    ))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Vod>, sqlx::Error> {
    sql::query("SELECT vod_id, vod_name, price FROM vods WHERE vod_id = $1")
        .bind(id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| vod(&r))
        .transpose()
}

pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<(Vec<String>, Vod)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(
        "SELECT vod_id, vod_name, price, registered_at FROM vods \
         WHERE (registered_at, vod_id) > ($2, $3) ORDER BY registered_at, vod_id LIMIT $1",
    )
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["registered_at", "vod_id"])?, vod(r)?)))
    .collect()
}

/// Inserts the VOD; false when the id is taken.
pub async fn insert(tx: &mut Tx, vod: &Vod) -> Result<bool, sqlx::Error> {
    let conn: &mut mediamesh_mesh::Conn = tx.conn();
    let inserted = sql::query(
        "INSERT INTO vods (vod_id, vod_name, price, registered_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(vod.id().to_owned())
    .bind(vod.name().to_owned())
    .bind(i64::from(vod.price().get()))
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
