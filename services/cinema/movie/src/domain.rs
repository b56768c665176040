//! A movie and its rules. Field bounds (id rule, title and description lengths) are checked
//! at the edge with `mediamesh_mesh::input`; the rules here are the movie's own.

/// Seats of a movie registered without a capacity.
pub const DEFAULT_SEATS: i64 = 100;
/// Largest auditorium the system accepts.
pub const MAX_SEATS: i64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    pub id: String,
    pub title: String,
    pub desc: String,
    pub seats: i64,
    pub review_cnt: i64,
    /// Confirmed reservations, as movie last heard from reservation's events.
    pub confirmed: i64,
    /// The aggregate version: every event about the movie carries the version it brings
    /// the movie to, so consumers can ignore a stale one.
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

fn check_seats(seats: i64) -> Result<i64, MovieError> {
    if (1..=MAX_SEATS).contains(&seats) {
        Ok(seats)
    } else {
        Err(MovieError::Seats)
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
    ) -> Result<Movie, MovieError> {
        if title.is_empty() && desc.is_empty() {
            return Err(MovieError::Nameless);
        }
        let seats = check_seats(seats.unwrap_or(DEFAULT_SEATS))?;
        Ok(Movie {
            id,
            title,
            desc,
            seats,
            review_cnt: 0,
            confirmed: 0,
            version: 1,
        })
    }

    /// Changes what is given, one version on. Seats never go below the confirmed
    /// reservations movie knows of.
    pub fn change(
        &mut self,
        title: Option<String>,
        desc: Option<String>,
        seats: Option<i64>,
    ) -> Result<(), MovieError> {
        let title = title.unwrap_or_else(|| self.title.clone());
        let desc = desc.unwrap_or_else(|| self.desc.clone());
        if title.is_empty() && desc.is_empty() {
            return Err(MovieError::Nameless);
        }
        let seats = match seats {
            Some(seats) => check_seats(seats)?,
            None => self.seats,
        };
        if seats < self.confirmed && seats < self.seats {
            return Err(MovieError::BelowConfirmed {
                confirmed: self.confirmed,
            });
        }
        (self.title, self.desc, self.seats) = (title, desc, seats);
        self.version += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_by_description_alone_with_default_seats() {
        let movie = Movie::register("1".into(), "".into(), "영화들".into(), None).unwrap();
        assert_eq!(
            (movie.seats, movie.review_cnt, movie.version),
            (DEFAULT_SEATS, 0, 1)
        );
    }

    #[test]
    fn rejects_bad_seats_and_nameless_movies() {
        assert_eq!(
            Movie::register("1".into(), "x".into(), "".into(), Some(0)),
            Err(MovieError::Seats)
        );
        assert_eq!(
            Movie::register("1".into(), "".into(), "".into(), None),
            Err(MovieError::Nameless)
        );
    }

    #[test]
    fn seats_never_go_below_the_confirmed_reservations() {
        let mut movie = Movie::register("1".into(), "x".into(), "".into(), Some(3)).unwrap();
        movie.confirmed = 2;
        assert_eq!(
            movie.change(None, None, Some(1)),
            Err(MovieError::BelowConfirmed { confirmed: 2 })
        );
        assert_eq!((movie.seats, movie.version), (3, 1), "unchanged");
        movie.change(None, None, Some(2)).unwrap();
        assert_eq!((movie.seats, movie.version), (2, 2));
    }
}
