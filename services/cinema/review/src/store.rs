//! Review's tables: the reviews (a deleted review keeps its row, without its content, so its
//! id is retired) and its replica of the movies, fed by versioned movie events. Changes are
//! decided by the domain on a locked row (an UPDATE takes the row lock on PostgreSQL; SQLite
//! has one writer).
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{ReplicaMovie, Review};

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
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS reviews_by_create ON reviews (create_time, review_id);",
    // One movie's reviews in list order, sought rather than filtered out of every review.
    "CREATE INDEX IF NOT EXISTS reviews_by_movie ON reviews (movie_id, create_time, review_id);",
];

const REVIEW: &str = "review_id, movie_id, content, create_time, deleted";

fn review(row: &sql::Row) -> Result<Review, sqlx::Error> {
    Ok(Review::restore(
        row.try_get("review_id")?,
        row.try_get("movie_id")?,
        row.try_get("content")?,
        row.try_get("create_time")?,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// Records a review; false if the id is taken, by a live review or a deleted one.
pub async fn insert(tx: &mut Tx, r: &Review) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO reviews ({REVIEW}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
    ))
    .bind(r.review_id().to_owned())
    .bind(r.movie_id().to_owned())
    .bind(r.content().to_owned())
    .bind(r.create_time().to_owned())
    .bind(i64::from(r.is_deleted()))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads a review and locks it until the transaction ends.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<Review>, sqlx::Error> {
    sql::query(&format!(
        "UPDATE reviews SET deleted = deleted WHERE review_id = $1 RETURNING {REVIEW}"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| review(&r))
    .transpose()
}

/// Writes a review's state after a transition.
pub async fn save(tx: &mut Tx, r: &Review) -> Result<(), sqlx::Error> {
    sql::query("UPDATE reviews SET content = $2, deleted = $3 WHERE review_id = $1")
        .bind(r.review_id().to_owned())
        .bind(r.content().to_owned())
        .bind(i64::from(r.is_deleted()))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): one movie's reviews seek reviews_by_movie, every review walks reviews_by_create
/// (one statement with `($n = '' OR movie_id = $n)` would walk it for a movie too).
pub(crate) fn list_statement(movie_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("movie_id", movie_id)]);
    let sql = format!(
        "SELECT {REVIEW} FROM reviews WHERE deleted = 0{filter} \
         AND (create_time, review_id) > ($2, $3) ORDER BY create_time, review_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    movie_id: &str,
) -> Result<Vec<(Vec<String>, Review)>, sqlx::Error> {
    let (text, filters) = list_statement(movie_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "review_id"])?, review(r)?)))
        .collect()
}

fn replica(row: &sql::Row) -> Result<ReplicaMovie, sqlx::Error> {
    Ok(ReplicaMovie::restore(
        row.try_get("movie_id")?,
        row.try_get("version")?,
        row.try_get::<i64, _>("deleted")? != 0,
    ))
}

/// What the replica knows of a movie (`None`: not heard of).
pub async fn movie(store: &Store, movie_id: &str) -> Result<Option<ReplicaMovie>, sqlx::Error> {
    sql::query("SELECT movie_id, version, deleted FROM review_movies WHERE movie_id = $1")
        .bind(movie_id.to_owned())
        .fetch_optional(store.reader())
        .await?
        .map(|r| replica(&r))
        .transpose()
}

/// Locks the replica's row of a movie; `None` if not heard of (then `save_movie` records it).
///
/// Insert first, then lock: the insert of a stand-in (version -1) waits for a concurrent
/// insert of the same movie, so the lock always finds the row it must change.
pub async fn lock_movie(tx: &mut Tx, movie_id: &str) -> Result<Option<ReplicaMovie>, sqlx::Error> {
    sql::query(
        "INSERT INTO review_movies (movie_id, version, deleted) VALUES ($1, -1, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(movie_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE review_movies SET version = version WHERE movie_id = $1 \
         RETURNING movie_id, version, deleted",
    )
    .bind(movie_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    Ok(Some(replica(&row)?).filter(|m| m.version() >= 0))
}

/// Writes the replica's row of a movie locked by `lock_movie`.
pub async fn save_movie(tx: &mut Tx, m: &ReplicaMovie) -> Result<(), sqlx::Error> {
    sql::query("UPDATE review_movies SET version = $2, deleted = $3 WHERE movie_id = $1")
        .bind(m.movie_id().to_owned())
        .bind(m.version())
        .bind(i64::from(m.is_deleted()))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A movie movie confirmed when asked, unless the replica has heard of it meanwhile.
pub async fn learn_movie(tx: &mut Tx, m: &ReplicaMovie) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO review_movies (movie_id, version, deleted) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(m.movie_id().to_owned())
    .bind(m.version())
    .bind(i64::from(m.is_deleted()))
    .execute(tx.conn())
    .await?;
    Ok(())
}
