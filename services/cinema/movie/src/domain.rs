//! A movie and its rules. Field bounds (id rule, title and description lengths) are checked
//! at the edge with `mediamesh_mesh::input`; the rules here are the movie's own: a movie has
//! a name, a capacity within bounds that never goes below the reservations confirmed for it,
//! and a version that every change moves on (each event carries the version it brings the
//! movie to, so consumers can ignore a stale one).

/// Seats of a movie registered without a capacity.
pub const DEFAULT_SEATS: i64 = 100;
/// Largest auditorium the system accepts.
pub const MAX_SEATS: i64 = 100_000;

/// A capacity within `1..=MAX_SEATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seats(i32);

impl Seats {
    pub fn new(seats: i64) -> Result<Seats, MovieError> {
        if !(1..=MAX_SEATS).contains(&seats) {
            return Err(MovieError::Seats);
        }
        i32::try_from(seats)
            .map(Seats)
            .map_err(|_| MovieError::Seats)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    id: String,
    title: String,
    desc: String,
    seats: Seats,
    review_cnt: i64,
    /// Confirmed reservations, as movie last heard from reservation's events.
    confirmed: i64,
    version: i64,
}

/// What a registration or a change publishes (`MovieRegistered`, `MovieUpdated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub movie_id: String,
    pub title: String,
    pub seats: Seats,
    pub version: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MovieError {
    #[error("must be between 1 and 100000")]
    Seats,
    #[error("a title or a description is required")]
    Nameless,
    #[error("{confirmed} reservations are confirmed; seats cannot go below that")]
    BelowConfirmed { confirmed: i64 },
}

impl MovieError {
    pub fn field(&self) -> &'static str {
        match self {
            MovieError::Seats | MovieError::BelowConfirmed { .. } => "seats",
            MovieError::Nameless => "title",
        }
    }
}

impl Movie {
    /// Registers a movie. The seed registers movies by description alone
    /// (`POST /movies {"desc": "영화들"}`), so a title is optional when there is one.
    pub fn register(
        id: String,
        title: String,
        desc: String,
        seats: Option<i64>,
    ) -> Result<(Movie, Published), MovieError> {
        if title.is_empty() && desc.is_empty() {
            return Err(MovieError::Nameless);
        }
        let seats = Seats::new(seats.unwrap_or(DEFAULT_SEATS))?;
        let movie = Movie {
            id,
            title,
            desc,
            seats,
            review_cnt: 0,
            confirmed: 0,
            version: 1,
        };
        let registered = movie.published();
        Ok((movie, registered))
    }

    /// A movie as stored.
    pub fn restore(
        id: String,
        title: String,
        desc: String,
        seats: Seats,
        review_cnt: i64,
        confirmed: i64,
        version: i64,
    ) -> Movie {
        Movie {
            id,
            title,
            desc,
            seats,
            review_cnt,
            confirmed,
            version,
        }
    }

    /// Changes what is given, one version on. Seats never go below the confirmed
    /// reservations movie knows of (lowering toward them from above is fine).
    pub fn change(
        &mut self,
        title: Option<String>,
        desc: Option<String>,
        seats: Option<i64>,
    ) -> Result<Published, MovieError> {
        let title = title.unwrap_or_else(|| self.title.clone());
        let desc = desc.unwrap_or_else(|| self.desc.clone());
        if title.is_empty() && desc.is_empty() {
            return Err(MovieError::Nameless);
        }
        let seats = seats.map(Seats::new).transpose()?.unwrap_or(self.seats);
        if i64::from(seats.get()) < self.confirmed && seats < self.seats {
            return Err(MovieError::BelowConfirmed {
                confirmed: self.confirmed,
            });
        }
        (self.title, self.desc, self.seats) = (title, desc, seats);
        self.version += 1;
        Ok(self.published())
    }

    fn published(&self) -> Published {
        Published {
            movie_id: self.id.clone(),
            title: self.title.clone(),
            seats: self.seats,
            version: self.version,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn desc(&self) -> &str {
        &self.desc
    }

    pub fn seats(&self) -> Seats {
        self.seats
    }

    pub fn review_cnt(&self) -> i64 {
        self.review_cnt
    }

    pub fn confirmed(&self) -> i64 {
        self.confirmed
    }

    pub fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(seats: i64, confirmed: i64) -> Movie {
        let seats = Seats::new(seats).unwrap();
        Movie::restore("1".into(), "x".into(), "".into(), seats, 0, confirmed, 1)
    }

    #[test]
    fn registers_by_description_alone_with_default_seats() {
        let (movie, registered) =
            Movie::register("1".into(), "".into(), "영화들".into(), None).unwrap();
        assert_eq!(
            (
                i64::from(movie.seats().get()),
                movie.review_cnt(),
                movie.version()
            ),
            (DEFAULT_SEATS, 0, 1)
        );
        assert_eq!((registered.movie_id.as_str(), registered.version), ("1", 1));
    }

    #[test]
    fn rejects_bad_seats_and_nameless_movies() {
        for seats in [0, -1, MAX_SEATS + 1, i64::MAX] {
            let registered = Movie::register("1".into(), "x".into(), "".into(), Some(seats));
            assert_eq!(registered.unwrap_err(), MovieError::Seats);
        }
        assert_eq!(
            Movie::register("1".into(), "".into(), "".into(), None).unwrap_err(),
            MovieError::Nameless
        );
        let mut m = movie(3, 0);
        assert_eq!(
            m.change(Some("".into()), None, None),
            Err(MovieError::Nameless)
        );
        assert_eq!(m.version(), 1, "a refused change moves nothing");
    }

    #[test]
    fn seats_never_go_below_the_confirmed_reservations() {
        let mut m = movie(3, 2);
        assert_eq!(
            m.change(None, None, Some(1)),
            Err(MovieError::BelowConfirmed { confirmed: 2 })
        );
        assert_eq!((m.seats().get(), m.version()), (3, 1), "unchanged");
        let updated = m.change(None, None, Some(2)).unwrap();
        assert_eq!((updated.seats.get(), updated.version), (2, 2));
        // Already below (the count arrived after a change): raising stays allowed.
        let mut m = movie(2, 5);
        assert_eq!(m.change(None, None, Some(4)).unwrap().seats.get(), 4);
    }

    #[test]
    fn every_change_moves_the_version_on_once() {
        let mut m = movie(3, 0);
        let first = m.change(Some("y".into()), None, None).unwrap();
        let second = m.change(None, Some("d".into()), None).unwrap();
        assert_eq!((first.version, second.version), (2, 3));
        assert_eq!((second.title.as_str(), m.desc()), ("y", "d"));
    }
}
