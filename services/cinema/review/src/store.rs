//! Review's tables: the reviews (a deleted review keeps its row, without its content, so its
//! id is retired) and its replica of the movies, fed by versioned movie events.
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS reviews (
    review_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    content TEXT NOT NULL,
    create_time TEXT NOT NULL
);
",
    "
ALTER TABLE reviews ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS review_movies (
    movie_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
",
];

fn review(row: &sqlx::any::AnyRow) -> Result<pb::Review, sqlx::Error> {
    Ok(pb::Review {
        review_id: row.try_get("review_id")?,
        movie_id: row.try_get("movie_id")?,
        content: row.try_get("content")?,
        create_time: row.try_get("create_time")?,
    })
}

/// Records a review; false if the id is taken, by a live review or a deleted one.
pub async fn insert(tx: &mut Tx, r: &pb::Review) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO reviews (review_id, movie_id, content, create_time, deleted) \
         VALUES ($1, $2, $3, $4, 0) ON CONFLICT DO NOTHING",
    )
    .bind(r.review_id.clone())
    .bind(r.movie_id.clone())
    .bind(r.content.clone())
    .bind(r.create_time.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Deletes a live review, keeping its id retired; returns its movie if it was live.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "UPDATE reviews SET deleted = 1, content = '' WHERE review_id = $1 AND deleted = 0 \
         RETURNING movie_id",
    )
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.try_get("movie_id"))
    .transpose()
}

pub async fn list(
    store: &Store,
    page: Page,
    movie_id: &str,
) -> Result<Vec<pb::Review>, sqlx::Error> {
    sqlx::query(
        "SELECT review_id, movie_id, content, create_time FROM reviews \
         WHERE deleted = 0 AND ($3 = '' OR movie_id = $3) \
         ORDER BY create_time, review_id LIMIT $1 OFFSET $2",
    )
    .bind(page.fetch_limit())
    .bind(page.offset)
    .bind(movie_id.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(review)
    .collect()
}

/// What the replica knows of a movie.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Live,
    Deleted,
    Unheard,
}

pub async fn movie(store: &Store, movie_id: &str) -> Result<Known, sqlx::Error> {
    let deleted: Option<i64> =
        sqlx::query_scalar("SELECT deleted FROM review_movies WHERE movie_id = $1")
            .bind(movie_id.to_owned())
            .fetch_optional(store.reader())
            .await?;
    Ok(match deleted {
        None => Known::Unheard,
        Some(0) => Known::Live,
        Some(_) => Known::Deleted,
    })
}

/// A registered or changed movie at `version`; a stale event (the replica already has
/// this version or a later one) changes nothing, and an update never revives a deleted
/// movie.
pub async fn apply_movie(tx: &mut Tx, movie_id: &str, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO review_movies (movie_id, version, deleted) VALUES ($1, $2, 0) \
         ON CONFLICT (movie_id) DO UPDATE SET version = excluded.version \
         WHERE excluded.version > review_movies.version",
    )
    .bind(movie_id.to_owned())
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A deleted movie, for good (its id is retired), even one the replica never saw.
pub async fn delete_movie(tx: &mut Tx, movie_id: &str, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO review_movies (movie_id, version, deleted) VALUES ($1, $2, 1) \
         ON CONFLICT (movie_id) DO UPDATE SET deleted = 1",
    )
    .bind(movie_id.to_owned())
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A movie movie confirmed when asked: version 0, so every event about it still applies.
pub async fn learn_movie(tx: &mut Tx, movie_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO review_movies (movie_id, version, deleted) VALUES ($1, 0, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(movie_id.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}
