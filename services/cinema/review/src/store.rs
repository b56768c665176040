//! The review table.
use mediamesh_mesh::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

pub const MIGRATIONS: &[Migration] = &["
CREATE TABLE IF NOT EXISTS reviews (
    review_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    content TEXT NOT NULL,
    create_time TEXT NOT NULL
);
"];

fn review(row: &sqlx::any::AnyRow) -> Result<pb::Review, sqlx::Error> {
    Ok(pb::Review {
        review_id: row.try_get("review_id")?,
        movie_id: row.try_get("movie_id")?,
        content: row.try_get("content")?,
        create_time: row.try_get("create_time")?,
    })
}

pub async fn insert(tx: &mut Tx, r: &pb::Review) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO reviews (review_id, movie_id, content, create_time) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
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

/// Deletes the review; returns its movie if it existed.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("DELETE FROM reviews WHERE review_id = $1 RETURNING movie_id")
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
         WHERE ($3 = '' OR movie_id = $3) ORDER BY create_time, review_id LIMIT $1 OFFSET $2",
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
