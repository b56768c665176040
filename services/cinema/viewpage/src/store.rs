//! The viewpage's own tables (the read model).
use mediamesh_mesh::storage::page::Page;
use mediamesh_mesh::{Migration, Store, Tx};
use mediamesh_proto::cinema::v1 as pb;
use sqlx::Row;

/// Reservations shown per movie: a movie's reservations grow without bound (cancelled ones
/// hold no seat), and a page of 100 movies must still fit the gateway's response limit.
pub const RESERVATIONS_SHOWN: i64 = 50;

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS vp_movies (
    movie_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    seats BIGINT NOT NULL,
    review_cnt BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS vp_reservations (
    rsv_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS vp_reservations_by_movie ON vp_reservations (movie_id, rsv_id);
",
    // The movie version the row reflects (0: a placeholder, or events from before movie
    // events were versioned).
    "ALTER TABLE vp_movies ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
];

/// A movie as registered or changed at `version` (review count untouched), unless the row
/// already reflects that version or a later one: a stale event delivered late changes
/// nothing. Version 0 (unversioned) always applies; a deleted movie stays deleted.
pub async fn upsert_movie(
    tx: &mut Tx,
    movie_id: &str,
    title: &str,
    seats: i64,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO vp_movies (movie_id, title, seats, review_cnt, deleted, version) \
         VALUES ($1, $2, $3, 0, 0, $4) \
         ON CONFLICT (movie_id) DO UPDATE SET title = excluded.title, seats = excluded.seats, \
         version = CASE WHEN excluded.version > vp_movies.version THEN excluded.version ELSE vp_movies.version END \
         WHERE excluded.version = 0 OR excluded.version > vp_movies.version",
    )
    .bind(movie_id.to_owned())
    .bind(title.to_owned())
    .bind(seats)
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A deleted movie, for good (its id is retired), even one not seen yet, so a stale
/// registration delivered later cannot bring it back.
pub async fn delete_movie(tx: &mut Tx, movie_id: &str, version: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO vp_movies (movie_id, title, seats, review_cnt, deleted, version) \
         VALUES ($1, '', 0, 0, 1, $2) \
         ON CONFLICT (movie_id) DO UPDATE SET deleted = 1, \
         version = CASE WHEN excluded.version > vp_movies.version THEN excluded.version ELSE vp_movies.version END",
    )
    .bind(movie_id.to_owned())
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves the review count; a movie not seen yet gets a placeholder row the movie's own
/// event completes.
pub async fn add_reviews(tx: &mut Tx, movie_id: &str, delta: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO vp_movies (movie_id, title, seats, review_cnt, deleted, version) \
         VALUES ($1, '', 0, $2, 0, 0) ON CONFLICT (movie_id) DO UPDATE SET review_cnt = vp_movies.review_cnt + $2",
    )
    .bind(movie_id.to_owned())
    .bind(delta)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a reservation's state, unless a later state is already recorded.
pub async fn set_reservation(
    tx: &mut Tx,
    rsv_id: &str,
    movie_id: &str,
    status: &str,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO vp_reservations (rsv_id, movie_id, status, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (rsv_id) DO UPDATE SET status = excluded.status, version = excluded.version \
         WHERE excluded.version > vp_reservations.version",
    )
    .bind(rsv_id.to_owned())
    .bind(movie_id.to_owned())
    .bind(status.to_owned())
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn list(store: &Store, page: Page) -> Result<Vec<pb::Viewpage>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT movie_id, title, seats, review_cnt FROM vp_movies WHERE deleted = 0 \
         ORDER BY movie_id LIMIT $1 OFFSET $2",
    )
    .bind(page.fetch_limit())
    .bind(page.offset)
    .fetch_all(store.reader())
    .await?;
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let movie_id: String = row.try_get("movie_id")?;
        let reservations = sqlx::query(
            "SELECT rsv_id, status FROM vp_reservations WHERE movie_id = $1 ORDER BY rsv_id LIMIT $2",
        )
        .bind(movie_id.clone())
        .bind(RESERVATIONS_SHOWN)
        .fetch_all(store.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(pb::ViewpageReservation {
                rsv_id: r.try_get("rsv_id")?,
                status: r.try_get("status")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        pages.push(pb::Viewpage {
            movie_id,
            title: row.try_get("title")?,
            seats: row.try_get::<i64, _>("seats")? as i32,
            review_cnt: row.try_get::<i64, _>("review_cnt")? as i32,
            reservations,
        });
    }
    Ok(pages)
}
