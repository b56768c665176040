//! The movie's table. A deleted movie keeps its row (without its description) so its id is
//! retired: it can never be registered again, and its version keeps counting for the
//! consumers that order movie events by it.
use mediamesh_mesh::storage::page::{Keyset, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Movie, Seats};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS movies (
    movie_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    descr TEXT NOT NULL,
    seats BIGINT NOT NULL,
    review_cnt BIGINT NOT NULL,
    registered_at TEXT NOT NULL
);
",
    "
ALTER TABLE movies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE movies ADD COLUMN confirmed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE movies ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0;
",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS movies_by_registered ON movies (registered_at, movie_id);",
];

const COLUMNS: &str = "movie_id, title, descr, seats, review_cnt, confirmed, version";

fn movie(row: &sql::Row) -> Result<Movie, sqlx::Error> {
    let seats: i64 = row.try_get("seats")?;
    let seats =
        Seats::new(seats).map_err(|_| sqlx::Error::Decode(format!("seats {seats}").into()))?;
    Ok(Movie::restore(
        row.try_get("movie_id")?,
        row.try_get("title")?,
        row.try_get("descr")?,
        seats,
        row.try_get("review_cnt")?,
        row.try_get("confirmed")?,
        row.try_get("version")?,
    ))
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Movie>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM movies WHERE movie_id = $1 AND deleted = 0"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| movie(&r))
    .transpose()
}

pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<(Vec<String>, Movie)>, sqlx::Error> {
    let after = page.after_or(&["", ""]);
    sql::query(&format!(
        "SELECT {COLUMNS}, registered_at FROM movies WHERE deleted = 0 \
         AND (registered_at, movie_id) > ($2, $3) ORDER BY registered_at, movie_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .bind(after[1].clone())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(|r| Ok((key_of(r, &["registered_at", "movie_id"])?, movie(r)?)))
    .collect()
}

/// Records a new movie; false if the id is taken, by a live movie or a deleted one.
pub async fn insert(tx: &mut Tx, m: &Movie) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO movies ({COLUMNS}, registered_at, deleted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT DO NOTHING"
    ))
    .bind(m.id().to_owned())
    .bind(m.title().to_owned())
    .bind(m.desc().to_owned())
    .bind(i64::from(m.seats().get()))
    .bind(m.review_cnt())
    .bind(m.confirmed())
    .bind(m.version())
    .bind(mediamesh_mesh::observe::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Saves a change made on version `m.version - 1`; false if the movie moved meanwhile
/// (changed, deleted, or more reservations confirmed than the lowered seats). One
/// conditional statement, so a confirmation applied concurrently cannot slip between the
/// check and the write on PostgreSQL.
pub async fn update(tx: &mut Tx, m: &Movie) -> Result<bool, sqlx::Error> {
    let updated = sql::query(
        "UPDATE movies SET title = $1, descr = $2, seats = $3, version = $4 \
         WHERE movie_id = $5 AND version = $6 AND deleted = 0 \
         AND (confirmed <= $3 OR seats <= $3)",
    )
    .bind(m.title().to_owned())
    .bind(m.desc().to_owned())
    .bind(i64::from(m.seats().get()))
    .bind(m.version())
    .bind(m.id().to_owned())
    .bind(m.version() - 1)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Deletes a live movie, keeping its id retired; returns the version the deletion brings
/// it to, or None if there was no live movie.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<Option<i64>, sqlx::Error> {
    sql::query(
        "UPDATE movies SET deleted = 1, descr = '', version = version + 1 \
         WHERE movie_id = $1 AND deleted = 0 RETURNING version",
    )
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.try_get("version"))
    .transpose()
}

/// Moves the review count by `delta` (a movie deleted meanwhile keeps counting unseen).
pub async fn add_reviews(tx: &mut Tx, id: &str, delta: i64) -> Result<(), sqlx::Error> {
    sql::query("UPDATE movies SET review_cnt = review_cnt + $1 WHERE movie_id = $2")
        .bind(delta)
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Moves the count of confirmed reservations by `delta`.
pub async fn add_confirmed(tx: &mut Tx, id: &str, delta: i64) -> Result<(), sqlx::Error> {
    sql::query("UPDATE movies SET confirmed = confirmed + $1 WHERE movie_id = $2")
        .bind(delta)
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}
