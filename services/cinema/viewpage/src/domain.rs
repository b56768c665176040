//! The viewpage's projection rules. A movie row follows its movie's events in version order
//! (a stale event delivered late changes nothing; version 0, from before movie events were
//! versioned, always applies) and a deleted movie stays deleted, even one whose registration
//! arrives after its deletion. A review count can arrive before its movie: the row starts as
//! a placeholder the movie's own event completes. A reservation shows the state of its
//! latest version. A movie shows at most `RESERVATIONS_SHOWN` reservations.

/// Reservations shown per movie: a movie's reservations grow without bound (cancelled ones
/// hold no seat), and a page of 100 movies must still fit the gateway's response limit.
pub const RESERVATIONS_SHOWN: i64 = 50;

/// A movie as the viewpage shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieView {
    movie_id: String,
    title: String,
    seats: i32,
    review_cnt: i64,
    deleted: bool,
    version: i64,
}

impl MovieView {
    /// A movie only heard of through its reviews so far.
    pub fn placeholder(movie_id: &str) -> MovieView {
        MovieView {
            movie_id: movie_id.to_owned(),
            title: String::new(),
            seats: 0,
            review_cnt: 0,
            deleted: false,
            version: 0,
        }
    }

    /// A movie as stored.
    pub fn restore(
        movie_id: String,
        title: String,
        seats: i32,
        review_cnt: i64,
        deleted: bool,
        version: i64,
    ) -> MovieView {
        MovieView {
            movie_id,
            title,
            seats,
            review_cnt,
            deleted,
            version,
        }
    }

    /// The movie as registered or changed at `version`; false (nothing changes) for a stale
    /// event or a deleted movie.
    pub fn change(&mut self, title: &str, seats: i32, version: i64) -> bool {
        if self.deleted || (version != 0 && version <= self.version) {
            return false;
        }
        self.title = title.to_owned();
        self.seats = seats;
        self.version = self.version.max(version);
        true
    }

    /// The movie deleted, for good (its id is retired).
    pub fn delete(&mut self, version: i64) {
        self.deleted = true;
        self.version = self.version.max(version);
    }

    /// Moves the review count (the tally decides whether a review counts).
    pub fn add_reviews(&mut self, delta: i64) {
        self.review_cnt += delta;
    }

    pub fn movie_id(&self) -> &str {
        &self.movie_id
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn seats(&self) -> i32 {
        self.seats
    }

    /// The review count as shown (a count past `i32::MAX` shows as the largest).
    pub fn review_cnt(&self) -> i32 {
        i32::try_from(self.review_cnt.max(0)).unwrap_or(i32::MAX)
    }

    pub fn stored_review_cnt(&self) -> i64 {
        self.review_cnt
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    pub fn version(&self) -> i64 {
        self.version
    }
}

mediamesh_mesh::named! {
    pub enum RsvStatus {
        Confirmed = "CONFIRMED",
        Cancelling = "CANCELLING",
        Cancelled = "CANCELLED",
    }
}

/// A reservation's state as the viewpage shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationView {
    rsv_id: String,
    status: RsvStatus,
    version: i64,
}

impl ReservationView {
    pub fn new(rsv_id: &str, status: RsvStatus, version: i64) -> ReservationView {
        ReservationView {
            rsv_id: rsv_id.to_owned(),
            status,
            version,
        }
    }

    /// The state at `version`, if it is later than the one shown; false (nothing changes)
    /// for a stale or repeated event.
    pub fn advance(&mut self, status: RsvStatus, version: i64) -> bool {
        if version <= self.version {
            return false;
        }
        self.status = status;
        self.version = version;
        true
    }

    pub fn rsv_id(&self) -> &str {
        &self.rsv_id
    }

    pub fn status(&self) -> RsvStatus {
        self.status
    }

    pub fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(version: i64) -> MovieView {
        let mut m = MovieView::placeholder("m1");
        assert!(m.change("Parasite", 2, version));
        m
    }

    #[test]
    fn a_movie_follows_its_versions_and_ignores_stale_ones() {
        let mut m = movie(1);
        assert!(m.change("Parasite (2019)", 3, 3));
        assert!(!m.change("Parasite", 2, 2), "stale: delivered late");
        assert!(!m.change("Parasite", 2, 3), "repeated");
        assert_eq!(
            (m.title(), m.seats(), m.version()),
            ("Parasite (2019)", 3, 3)
        );
        assert!(m.change("unversioned", 1, 0), "version 0 always applies");
        assert_eq!(m.version(), 3);
    }

    #[test]
    fn a_deleted_movie_stays_deleted() {
        let mut m = movie(1);
        m.delete(3);
        assert!(!m.change("back", 2, 4), "no later event revives it");
        assert!(m.is_deleted());
        let mut unseen = MovieView::placeholder("m2");
        unseen.delete(2);
        assert!(!unseen.change("registered late", 2, 1));
        assert_eq!(unseen.version(), 2);
    }

    #[test]
    fn reviews_may_count_before_their_movie_arrives() {
        let mut m = MovieView::placeholder("m1");
        m.add_reviews(1);
        m.add_reviews(1);
        assert!(m.change("Parasite", 2, 1));
        m.add_reviews(-1);
        assert_eq!((m.title(), m.review_cnt()), ("Parasite", 1));
    }

    #[test]
    fn counts_beyond_the_contract_show_as_the_largest() {
        let mut m = MovieView::placeholder("m1");
        m.add_reviews(i64::from(i32::MAX) + 5);
        assert_eq!(m.review_cnt(), i32::MAX);
    }

    #[test]
    fn a_reservation_shows_its_latest_state() {
        let mut r = ReservationView::new("r1", RsvStatus::Confirmed, 1);
        assert!(r.advance(RsvStatus::Cancelled, 3));
        assert!(
            !r.advance(RsvStatus::Cancelling, 2),
            "stale: delivered late"
        );
        assert!(!r.advance(RsvStatus::Cancelled, 3), "repeated");
        assert_eq!((r.status(), r.version()), (RsvStatus::Cancelled, 3));
        for s in [
            RsvStatus::Confirmed,
            RsvStatus::Cancelling,
            RsvStatus::Cancelled,
        ] {
            assert_eq!(RsvStatus::parse(s.as_str()), Some(s));
        }
    }
}
