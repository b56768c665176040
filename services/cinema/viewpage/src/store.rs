//! The viewpage's own tables (the read model). Every change is insert-then-check: insert the
//! row as the domain builds it for an id not seen yet, else lock the row (an UPDATE takes the
//! row lock on PostgreSQL; SQLite has one writer), let the domain decide, and write it back.
use mediamesh_mesh::storage::page::Keyset;
use mediamesh_mesh::{Migration, Store, Tx, sql};
use mediamesh_proto::cinema::v1 as pb;

use crate::domain::{MovieView, RESERVATIONS_SHOWN, ReservationView, RsvStatus};

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

const MOVIE: &str = "movie_id, title, seats, review_cnt, deleted, version";

fn decode(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

fn movie(row: &sql::Row) -> Result<MovieView, sqlx::Error> {
    let seats: i64 = row.try_get("seats")?;
    Ok(MovieView::restore(
        row.try_get("movie_id")?,
        row.try_get("title")?,
        i32::try_from(seats).map_err(|_| decode(format!("seats {seats}")))?,
        row.try_get("review_cnt")?,
        row.try_get::<i64, _>("deleted")? != 0,
        row.try_get("version")?,
    ))
}

/// Applies `change` to the movie's row; a movie not seen yet starts as a placeholder.
pub async fn change_movie(
    tx: &mut Tx,
    movie_id: &str,
    change: impl FnOnce(&mut MovieView) -> bool,
) -> Result<(), sqlx::Error> {
    // Insert first, then lock: the insert of a stand-in (version -1) waits for a concurrent
    // insert of the same movie, so the lock below always finds the row it must change.
    sql::query(&format!(
        "INSERT INTO vp_movies ({MOVIE}) VALUES ($1, '', 0, 0, 0, -1) ON CONFLICT DO NOTHING"
    ))
    .bind(movie_id.to_owned())
    .execute(tx.conn())
    .await?;
    let row = sql::query(&format!(
        "UPDATE vp_movies SET version = version WHERE movie_id = $1 RETURNING {MOVIE}"
    ))
    .bind(movie_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let mut m = movie(&row)?;
    let new = m.version() < 0;
    if new {
        m = MovieView::placeholder(movie_id);
    }
    if change(&mut m) || new {
        save_movie(tx, &m).await?;
    }
    Ok(())
}

async fn save_movie(tx: &mut Tx, m: &MovieView) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE vp_movies SET title = $2, seats = $3, review_cnt = $4, deleted = $5, \
         version = $6 WHERE movie_id = $1",
    )
    .bind(m.movie_id().to_owned())
    .bind(m.title().to_owned())
    .bind(i64::from(m.seats()))
    .bind(m.stored_review_cnt())
    .bind(i64::from(m.is_deleted()))
    .bind(m.version())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a reservation's state at `version`, unless a later state is already recorded.
pub async fn set_reservation(
    tx: &mut Tx,
    rsv_id: &str,
    movie_id: &str,
    status: RsvStatus,
    version: i64,
) -> Result<(), sqlx::Error> {
    // Inserted with version -1 when new, so any event's state applies to it below.
    sql::query(
        "INSERT INTO vp_reservations (rsv_id, movie_id, status, version) \
         VALUES ($1, $2, $3, -1) ON CONFLICT DO NOTHING",
    )
    .bind(rsv_id.to_owned())
    .bind(movie_id.to_owned())
    .bind(status.as_str())
    .execute(tx.conn())
    .await?;
    let row = sql::query(
        "UPDATE vp_reservations SET version = version WHERE rsv_id = $1 \
         RETURNING status, version",
    )
    .bind(rsv_id.to_owned())
    .fetch_one(tx.conn())
    .await?;
    let shown: String = row.try_get("status")?;
    let shown = RsvStatus::parse(&shown).ok_or_else(|| decode(format!("status {shown:?}")))?;
    let mut reservation = ReservationView::new(rsv_id, shown, row.try_get("version")?);
    if reservation.advance(status, version) {
        sql::query("UPDATE vp_reservations SET status = $2, version = $3 WHERE rsv_id = $1")
            .bind(reservation.rsv_id().to_owned())
            .bind(reservation.status().as_str())
            .bind(reservation.version())
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// A page of movies by id, continued after the previous page's last movie_id.
pub async fn list(store: &Store, page: &Keyset) -> Result<Vec<pb::Viewpage>, sqlx::Error> {
    let after = page.after_or(&[""]);
    let rows = sql::query(&format!(
        "SELECT {MOVIE} FROM vp_movies WHERE deleted = 0 AND movie_id > $2 \
         ORDER BY movie_id LIMIT $1"
    ))
    .bind(page.fetch_limit())
    .bind(after[0].clone())
    .fetch_all(store.reader())
    .await?;
    let mut pages = Vec::with_capacity(rows.len());
    for row in rows {
        let m = movie(&row)?;
        let reservations = sql::query(
            "SELECT rsv_id, status FROM vp_reservations WHERE movie_id = $1 ORDER BY rsv_id LIMIT $2",
        )
        .bind(m.movie_id().to_owned())
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
            movie_id: m.movie_id().to_owned(),
            title: m.title().to_owned(),
            seats: m.seats(),
            review_cnt: m.review_cnt(),
            reservations,
        });
    }
    Ok(pages)
}
