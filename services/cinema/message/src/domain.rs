//! The message rule: one notice per confirmed and one per cancelled reservation. A
//! reservation is confirmed once and cancelled once, so the notice is keyed by the
//! reservation and its kind: an event redelivered, or the same change raised again under
//! another event id, finds its notice already written.

/// Which change of a reservation the notice tells about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Confirmed,
    Cancelled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Confirmed => "CONFIRMED",
            Kind::Cancelled => "CANCELLED",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Confirmed => "confirmed",
            Kind::Cancelled => "cancelled",
        }
    }
}

/// A notice to a customer about one of their reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    message_id: String,
    rsv_id: String,
    customer_id: String,
    kind: Kind,
    text: String,
}

impl Notice {
    /// The notice for `kind` happening to reservation `rsv_id` of `movie_id`.
    pub fn of(kind: Kind, rsv_id: &str, customer_id: &str, movie_id: &str) -> Notice {
        Notice {
            // One per reservation and kind (a reservation id is at most 64 characters).
            message_id: format!("{rsv_id}.{}", kind.word()),
            rsv_id: rsv_id.to_owned(),
            customer_id: customer_id.to_owned(),
            kind,
            text: format!(
                "reservation {rsv_id} for movie {movie_id} is {}",
                kind.word()
            ),
        }
    }

    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    pub fn rsv_id(&self) -> &str {
        &self.rsv_id
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_its_reservation_and_movie() {
        let notice = Notice::of(Kind::Confirmed, "r1", "kim", "m1");
        assert_eq!(notice.text(), "reservation r1 for movie m1 is confirmed");
        assert_eq!((notice.rsv_id(), notice.customer_id()), ("r1", "kim"));
        assert_eq!(notice.kind().as_str(), "CONFIRMED");
        let cancelled = Notice::of(Kind::Cancelled, "r1", "kim", "m1");
        assert_eq!(cancelled.text(), "reservation r1 for movie m1 is cancelled");
        assert_eq!(cancelled.kind().as_str(), "CANCELLED");
    }

    #[test]
    fn one_notice_per_reservation_and_kind() {
        let confirmed = Notice::of(Kind::Confirmed, "r1", "kim", "m1");
        assert_eq!(
            confirmed.message_id(),
            Notice::of(Kind::Confirmed, "r1", "kim", "m1").message_id(),
            "the same change twice is the same notice"
        );
        assert_ne!(
            confirmed.message_id(),
            Notice::of(Kind::Cancelled, "r1", "kim", "m1").message_id()
        );
        assert_ne!(
            confirmed.message_id(),
            Notice::of(Kind::Confirmed, "r2", "kim", "m1").message_id()
        );
    }
}
