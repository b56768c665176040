//! Review's rules. A review names a movie that exists: review keeps a replica of the movies,
//! fed by versioned movie events (a stale event changes nothing, an update never revives a
//! deleted movie, a deletion is for good even for a movie never heard of), and a movie the
//! replica has not heard of must be asked of movie. A review is deleted once; its id stays
//! retired (the review counts downstream are kept by review id and would not count it again).

/// A movie as the replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaMovie {
    movie_id: String,
    version: i64,
    deleted: bool,
}

/// Whether a review may be written on a movie, by what the replica knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieCheck {
    /// The replica knows the movie is live.
    Known,
    /// The replica has not heard of it (registered a moment ago?): ask movie.
    Ask,
}

impl ReplicaMovie {
    /// A movie first heard of through a registration or a change at `version`.
    pub fn changed(movie_id: &str, version: i64) -> ReplicaMovie {
        ReplicaMovie {
            movie_id: movie_id.to_owned(),
            version,
            deleted: false,
        }
    }

    /// A movie first heard of through its deletion.
    pub fn deleted(movie_id: &str, version: i64) -> ReplicaMovie {
        ReplicaMovie {
            movie_id: movie_id.to_owned(),
            version,
            deleted: true,
        }
    }

    /// A movie movie confirmed when asked: version 0, so every event about it still applies.
    pub fn learned(movie_id: &str) -> ReplicaMovie {
        ReplicaMovie::changed(movie_id, 0)
    }

    pub fn restore(movie_id: String, version: i64, deleted: bool) -> ReplicaMovie {
        ReplicaMovie {
            movie_id,
            version,
            deleted,
        }
    }

    /// The movie registered or changed at `version`; false (nothing changes) for a stale or
    /// repeated event. A deleted movie stays deleted.
    pub fn change(&mut self, version: i64) -> bool {
        if version <= self.version {
            return false;
        }
        self.version = version;
        true
    }

    /// The movie deleted, for good; false if it was already.
    pub fn delete(&mut self, version: i64) -> bool {
        let changed = !self.deleted || version > self.version;
        self.deleted = true;
        self.version = self.version.max(version);
        changed
    }

    /// Whether a review may name this movie (`None`: the replica has not heard of it).
    pub fn check(replica: Option<&ReplicaMovie>) -> Result<MovieCheck, ReviewError> {
        match replica {
            None => Ok(MovieCheck::Ask),
            Some(m) if m.deleted => Err(ReviewError::MovieNotFound(m.movie_id.clone())),
            Some(_) => Ok(MovieCheck::Known),
        }
    }

    pub fn movie_id(&self) -> &str {
        &self.movie_id
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
}

/// A review of a movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    review_id: String,
    movie_id: String,
    content: String,
    create_time: String,
    deleted: bool,
}

/// Raised by a new review (`ReviewCreated`, version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub review_id: String,
    pub movie_id: String,
}

/// Raised when a review is deleted (`ReviewDeleted`, version 2): the count's compensation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub review_id: String,
    pub movie_id: String,
}

impl Deleted {
    pub const VERSION: i64 = 2;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("movie {0:?} not found")]
    MovieNotFound(String),
}

impl Review {
    /// A new review (fields checked at the edge, the movie checked by `ReplicaMovie::check`
    /// or by movie).
    pub fn write(
        review_id: String,
        movie_id: String,
        content: String,
        create_time: String,
    ) -> (Review, Created) {
        let created = Created {
            review_id: review_id.clone(),
            movie_id: movie_id.clone(),
        };
        let review = Review {
            review_id,
            movie_id,
            content,
            create_time,
            deleted: false,
        };
        (review, created)
    }

    pub fn restore(
        review_id: String,
        movie_id: String,
        content: String,
        create_time: String,
        deleted: bool,
    ) -> Review {
        Review {
            review_id,
            movie_id,
            content,
            create_time,
            deleted,
        }
    }

    /// Deletes a live review (its content goes, its id stays retired) and says what to
    /// compensate; a deleted review stays as it is and raises nothing.
    pub fn delete(&mut self) -> Option<Deleted> {
        if self.deleted {
            return None;
        }
        self.deleted = true;
        self.content.clear();
        Some(Deleted {
            review_id: self.review_id.clone(),
            movie_id: self.movie_id.clone(),
        })
    }

    pub fn review_id(&self) -> &str {
        &self.review_id
    }

    pub fn movie_id(&self) -> &str {
        &self.movie_id
    }

    pub fn content(&self) -> &str {
        &self.content
    }

    pub fn create_time(&self) -> &str {
        &self.create_time
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replica_follows_movie_versions() {
        let mut m = ReplicaMovie::changed("m1", 2);
        assert!(!m.change(1), "stale");
        assert!(!m.change(2), "repeated");
        assert!(m.change(3));
        assert_eq!(m.version(), 3);
        let mut learned = ReplicaMovie::learned("m2");
        assert!(
            learned.change(1),
            "every event applies after movie was asked"
        );
    }

    #[test]
    fn a_deleted_movie_stays_deleted_and_cannot_be_reviewed() {
        let mut m = ReplicaMovie::changed("m1", 1);
        assert!(m.delete(3));
        assert!(!m.delete(3), "repeated");
        assert!(m.change(4) && m.is_deleted(), "no change revives it");
        assert_eq!(
            ReplicaMovie::check(Some(&m)),
            Err(ReviewError::MovieNotFound("m1".into()))
        );
        let mut early = ReplicaMovie::deleted("m2", 2);
        assert!(!early.change(1), "its registration, delivered late");
        assert!(ReplicaMovie::check(Some(&early)).is_err());
    }

    #[test]
    fn a_movie_not_heard_of_is_asked_of_movie() {
        assert_eq!(ReplicaMovie::check(None), Ok(MovieCheck::Ask));
        let live = ReplicaMovie::changed("m1", 1);
        assert_eq!(ReplicaMovie::check(Some(&live)), Ok(MovieCheck::Known));
    }

    #[test]
    fn a_review_is_deleted_once() {
        let (mut review, created) =
            Review::write("rv1".into(), "m1".into(), "good".into(), "t".into());
        assert_eq!(
            (created.review_id.as_str(), created.movie_id.as_str()),
            ("rv1", "m1")
        );
        let deleted = review.delete().expect("live: deleted");
        assert_eq!(deleted.movie_id, "m1");
        assert!(review.is_deleted() && review.content().is_empty());
        assert_eq!(
            review.delete(),
            None,
            "deleted already: nothing to compensate"
        );
    }
}
