//! A movie and its rules.

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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MovieError {
    #[error("must be between 1 and 100000")]
    Seats,
    #[error("must be at most 200 characters")]
    TitleTooLong,
    #[error("a title or a description is required")]
    Nameless,
}

impl MovieError {
    pub fn field(&self) -> &'static str {
        match self {
            MovieError::Seats => "seats",
            MovieError::TitleTooLong | MovieError::Nameless => "title",
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

fn check_title(title: &str) -> Result<String, MovieError> {
    let title = title.trim();
    if title.chars().count() > 200 {
        return Err(MovieError::TitleTooLong);
    }
    Ok(title.to_owned())
}

impl Movie {
    /// Registers a movie. The seed registers movies by description alone
    /// (`POST /movies {"desc": "영화들"}`), so a title is optional when there is one.
    pub fn register(
        id: String,
        title: &str,
        desc: &str,
        seats: Option<i64>,
    ) -> Result<Movie, MovieError> {
        let title = check_title(title)?;
        let desc = desc.trim().to_owned();
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
        })
    }

    pub fn change(
        &mut self,
        title: Option<&str>,
        desc: Option<&str>,
        seats: Option<i64>,
    ) -> Result<(), MovieError> {
        if let Some(title) = title {
            self.title = check_title(title)?;
        }
        if let Some(desc) = desc {
            self.desc = desc.trim().to_owned();
        }
        if let Some(seats) = seats {
            self.seats = check_seats(seats)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_by_description_alone_with_default_seats() {
        let movie = Movie::register("1".into(), "", "영화들", None).unwrap();
        assert_eq!((movie.seats, movie.review_cnt), (DEFAULT_SEATS, 0));
    }

    #[test]
    fn rejects_bad_seats_and_nameless_movies() {
        assert_eq!(
            Movie::register("1".into(), "x", "", Some(0)),
            Err(MovieError::Seats)
        );
        assert_eq!(
            Movie::register("1".into(), " ", " ", None),
            Err(MovieError::Nameless)
        );
    }
}
