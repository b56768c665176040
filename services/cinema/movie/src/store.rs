//! The movie's table.
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use sqlx::Row;

use crate::domain::Movie;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS movies (
    movie_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    descr TEXT NOT NULL,
    seats BIGINT NOT NULL,
    review_cnt BIGINT NOT NULL,
    registered_at TEXT NOT NULL
);
"];

const COLUMNS: &str = "movie_id, title, descr, seats, review_cnt";

fn movie(row: &sqlx::any::AnyRow) -> Result<Movie, sqlx::Error> {
    Ok(Movie {
        id: row.try_get("movie_id")?,
        title: row.try_get("title")?,
        desc: row.try_get("descr")?,
        seats: row.try_get("seats")?,
        review_cnt: row.try_get("review_cnt")?,
    })
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Movie>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM movies WHERE movie_id = $1"))
        .bind(id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| movie(&r))
        .transpose()
}

pub async fn list(store: &Store, page: Page) -> Result<Vec<Movie>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM movies ORDER BY registered_at, movie_id LIMIT $1 OFFSET $2"
    ))
    .bind(page.fetch_limit())
    .bind(page.offset)
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(movie)
    .collect()
}

pub async fn insert(tx: &mut Tx, m: &Movie) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO movies ({COLUMNS}, registered_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
    ))
    .bind(m.id.clone())
    .bind(m.title.clone())
    .bind(m.desc.clone())
    .bind(m.seats)
    .bind(m.review_cnt)
    .bind(mediamesh_mesh::telemetry::now_rfc3339())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn update(tx: &mut Tx, m: &Movie) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE movies SET title = $1, descr = $2, seats = $3 WHERE movie_id = $4")
        .bind(m.title.clone())
        .bind(m.desc.clone())
        .bind(m.seats)
        .bind(m.id.clone())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM movies WHERE movie_id = $1")
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

/// Moves the review count by `delta` (a movie deleted meanwhile is simply not there).
pub async fn add_reviews(tx: &mut Tx, id: &str, delta: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE movies SET review_cnt = review_cnt + $1 WHERE movie_id = $2")
        .bind(delta)
        .bind(id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}
