//! Reservation's tables: reservations and the seat ledger (its replica of the movies).
use mediamesh_mesh::storage::page::{Keyset, given_filters, key_of};
use mediamesh_mesh::{Migration, Store, Tx, sql};

use crate::domain::{Reservation, Status, Won};

pub const MIGRATIONS: &[Migration] = &[
    "
CREATE TABLE IF NOT EXISTS reservations (
    rsv_id TEXT PRIMARY KEY,
    movie_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    create_time TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_movie ON reservations (movie_id, create_time);
CREATE INDEX IF NOT EXISTS reservations_pending ON reservations (status, create_time);
CREATE TABLE IF NOT EXISTS movie_seats (
    movie_id TEXT PRIMARY KEY,
    seats BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    deleted BIGINT NOT NULL
);
",
    // The movie version the ledger row reflects (0: learned by asking movie, or an event
    // from before movie events were versioned).
    "ALTER TABLE movie_seats ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
    // Keyset paging in list order (the whole sort key in the index).
    "CREATE INDEX IF NOT EXISTS reservations_by_create ON reservations (create_time, rsv_id);",
    // A movie's reservations in list order, sought with the whole sort key (the index on
    // (movie_id, create_time) it replaces left ties on create_time to a sort).
    "
CREATE INDEX IF NOT EXISTS reservations_by_movie_key ON reservations (movie_id, create_time, rsv_id);
DROP INDEX IF EXISTS reservations_by_movie;
",
];

const COLUMNS: &str = "rsv_id, movie_id, customer_id, status, amount, create_time, version";

fn reservation(row: &sql::Row) -> Result<Reservation, sqlx::Error> {
    let decode = |what: String| sqlx::Error::Decode(what.into());
    let status: String = row.try_get("status")?;
    let amount: i64 = row.try_get("amount")?;
    Ok(Reservation::restore(
        row.try_get("rsv_id")?,
        row.try_get("movie_id")?,
        row.try_get("customer_id")?,
        Status::parse(&status).ok_or_else(|| decode(format!("status {status:?}")))?,
        Won::stored(amount).ok_or_else(|| decode(format!("amount {amount}")))?,
        row.try_get("create_time")?,
        row.try_get("version")?,
    ))
}

/// What holding a seat came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Hold {
    Held,
    Full,
    /// The movie was deleted (its id is retired).
    Deleted,
    /// The ledger has not heard of the movie.
    Unknown,
    /// The reservation id is taken: nothing was recorded or held.
    Taken,
}

/// Holds one seat: a single conditional update, so concurrent holds can never take
/// `reserved` past `seats` on either backend.
pub async fn hold_seat(tx: &mut Tx, movie_id: &str) -> Result<Hold, sqlx::Error> {
    let held = sql::query(
        "UPDATE movie_seats SET reserved = reserved + 1 WHERE movie_id = $1 AND deleted = 0 AND reserved < seats",
    )
    .bind(movie_id.to_owned())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if held == 1 {
        return Ok(Hold::Held);
    }
    let deleted: Option<i64> =
        sql::query_scalar("SELECT deleted FROM movie_seats WHERE movie_id = $1")
            .bind(movie_id.to_owned())
            .fetch_optional(tx.conn())
            .await?;
    Ok(match deleted {
        None => Hold::Unknown,
        Some(0) => Hold::Full,
        Some(_) => Hold::Deleted,
    })
}

pub async fn release_seat(tx: &mut Tx, movie_id: &str) -> Result<(), sqlx::Error> {
    sql::query(
        "UPDATE movie_seats SET reserved = reserved - 1 WHERE movie_id = $1 AND reserved > 0",
    )
    .bind(movie_id.to_owned())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Applies a registered or changed movie at `version`, unless the ledger already reflects
/// a later version (a stale event, delivered late). Version 0 (unversioned) always applies.
/// The same version applies again: a redelivered event sets what it set, and the event of a
/// change whose capacity was set ahead by `set_capacity` (same version) is the movie's own
/// word on it, so an attempt that set the ledger and then failed to commit at movie is
/// overwritten by the change that did commit at that version. A lower capacity is kept as
/// given even below `reserved`: holds then stop until cancellations bring `reserved` under it.
pub async fn apply_movie(
    tx: &mut Tx,
    movie_id: &str,
    seats: i64,
    version: i64,
) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO movie_seats (movie_id, seats, reserved, deleted, version) VALUES ($1, $2, 0, 0, $3) \
         ON CONFLICT (movie_id) DO UPDATE SET seats = excluded.seats, \
         version = CASE WHEN excluded.version > movie_seats.version THEN excluded.version ELSE movie_seats.version END \
         WHERE excluded.version = 0 OR excluded.version >= movie_seats.version",
    )
    .bind(movie_id.to_owned())
    .bind(seats)
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What setting a movie's capacity came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Capacity {
    /// Set; `reserved` seats are held or confirmed.
    Set { reserved: i64 },
    /// Refused: more seats are held or confirmed than the capacity asked for.
    Held { reserved: i64 },
    /// The ledger already reflects a later movie version: movie changed meanwhile.
    Stale,
    /// The movie was deleted.
    Deleted,
}

/// Sets a movie's capacity at movie `version` if no more than `seats` are held: one
/// conditional update, so no hold can slip between the check and the write on either
/// backend (a hold is a conditional update of the same row). The ledger takes `version`,
/// so the stale events of earlier versions can no longer raise the capacity back. A movie
/// the ledger has not heard of holds nothing yet: it is recorded as given.
pub async fn set_capacity(
    tx: &mut Tx,
    movie_id: &str,
    seats: i64,
    version: i64,
) -> Result<Capacity, sqlx::Error> {
    let set: Option<i64> = sql::query_scalar(
        "UPDATE movie_seats SET seats = $2, version = $3 \
         WHERE movie_id = $1 AND deleted = 0 AND reserved <= $2 AND version <= $3 \
         RETURNING reserved",
    )
    .bind(movie_id.to_owned())
    .bind(seats)
    .bind(version)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(reserved) = set {
        return Ok(Capacity::Set { reserved });
    }
    let row = sql::query("SELECT reserved, deleted, version FROM movie_seats WHERE movie_id = $1")
        .bind(movie_id.to_owned())
        .fetch_optional(tx.conn())
        .await?;
    let Some(row) = row else {
        let inserted = sql::query(
            "INSERT INTO movie_seats (movie_id, seats, reserved, deleted, version) \
             VALUES ($1, $2, 0, 0, $3) ON CONFLICT DO NOTHING",
        )
        .bind(movie_id.to_owned())
        .bind(seats)
        .bind(version)
        .execute(tx.conn())
        .await?
        .rows_affected();
        // Recorded meanwhile by a concurrent hold or event: movie asks again.
        return Ok(if inserted == 1 {
            Capacity::Set { reserved: 0 }
        } else {
            Capacity::Stale
        });
    };
    let (reserved, deleted, known): (i64, i64, i64) = (
        row.try_get("reserved")?,
        row.try_get("deleted")?,
        row.try_get("version")?,
    );
    Ok(if deleted != 0 {
        Capacity::Deleted
    } else if known > version {
        Capacity::Stale
    } else {
        Capacity::Held { reserved }
    })
}

/// What movie answered when asked about a movie the ledger had not heard of: recorded at
/// version 0, so every event about the movie still applies over it; an event that arrived
/// meanwhile is kept.
pub async fn learn_movie(tx: &mut Tx, movie_id: &str, seats: i64) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO movie_seats (movie_id, seats, reserved, deleted, version) VALUES ($1, $2, 0, 0, 0) \
         ON CONFLICT DO NOTHING",
    )
    .bind(movie_id.to_owned())
    .bind(seats)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks a movie deleted for good (its id is retired), even one the ledger never saw, so
/// a stale registration delivered later cannot bring it back.
pub async fn delete_movie(tx: &mut Tx, movie_id: &str, version: i64) -> Result<(), sqlx::Error> {
    sql::query(
        "INSERT INTO movie_seats (movie_id, seats, reserved, deleted, version) VALUES ($1, 0, 0, 1, $2) \
         ON CONFLICT (movie_id) DO UPDATE SET deleted = 1, \
         version = CASE WHEN excluded.version > movie_seats.version THEN excluded.version ELSE movie_seats.version END",
    )
    .bind(movie_id.to_owned())
    .bind(version)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Takes back a reservation recorded in this transaction (its seat could not be held).
pub async fn forget(tx: &mut Tx, rsv_id: &str) -> Result<(), sqlx::Error> {
    sql::query("DELETE FROM reservations WHERE rsv_id = $1")
        .bind(rsv_id.to_owned())
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn insert(tx: &mut Tx, r: &Reservation) -> Result<bool, sqlx::Error> {
    let inserted = sql::query(&format!(
        "INSERT INTO reservations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
    ))
    .bind(r.id().to_owned())
    .bind(r.movie_id().to_owned())
    .bind(r.customer_id().to_owned())
    .bind(r.status().as_str())
    .bind(i64::from(r.amount().get()))
    .bind(r.create_time().to_owned())
    .bind(r.version())
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Saves a status change if the row is still at `version - 1` (optimistic).
pub async fn update_status(tx: &mut Tx, r: &Reservation) -> Result<bool, sqlx::Error> {
    let updated = sql::query(
        "UPDATE reservations SET status = $1, version = $2 WHERE rsv_id = $3 AND version = $4",
    )
    .bind(r.status().as_str())
    .bind(r.version())
    .bind(r.id().to_owned())
    .bind(r.version() - 1)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Reservation>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE rsv_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(store.reader())
    .await?
    .map(|r| reservation(&r))
    .transpose()
}

pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<Reservation>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE rsv_id = $1"
    ))
    .bind(id.to_owned())
    .fetch_optional(tx.conn())
    .await?
    .map(|r| reservation(&r))
    .transpose()
}

/// The listing's statement and the filter values bound after the key ($1 limit, $2 and $3
/// the key): a movie's reservations seek reservations_by_movie_key, all of them walk
/// reservations_by_create (one statement with `($n = '' OR movie_id = $n)` would walk it for
/// a movie too).
pub(crate) fn list_statement(movie_id: &str) -> (String, Vec<String>) {
    let (filter, values) = given_filters(4, &[("movie_id", movie_id)]);
    let sql = format!(
        "SELECT {COLUMNS} FROM reservations WHERE (create_time, rsv_id) > ($2, $3){filter} \
         ORDER BY create_time, rsv_id LIMIT $1"
    );
    (sql, values)
}

pub async fn list(
    store: &Store,
    page: &Keyset,
    movie_id: &str,
) -> Result<Vec<(Vec<String>, Reservation)>, sqlx::Error> {
    let (text, filters) = list_statement(movie_id);
    page.fetch(store, &text, &["", ""], filters)
        .await?
        .iter()
        .map(|r| Ok((key_of(r, &["create_time", "rsv_id"])?, reservation(r)?)))
        .collect()
}

/// Reservations still pending that were created before `cutoff` (left by a crash).
pub async fn pending_before(store: &Store, cutoff: &str) -> Result<Vec<Reservation>, sqlx::Error> {
    sql::query(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE status = 'PENDING' AND create_time < $1 ORDER BY create_time LIMIT 100"
    ))
    .bind(cutoff.to_owned())
    .fetch_all(store.reader())
    .await?
    .iter()
    .map(reservation)
    .collect()
}
