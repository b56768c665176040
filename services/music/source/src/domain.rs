//! A sound source and its rules: every approved copyright registers one source, once; a
//! released copyright releases it, and stays released whatever arrives after (an approval
//! delivered late, or again, never registers a released source).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Registered,
    Released,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Registered => "REGISTERED",
            Status::Released => "RELEASED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "REGISTERED" => Some(Status::Registered),
            "RELEASED" => Some(Status::Released),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    source_id: String,
    content_id: String,
    creator_name: String,
    /// Empty while only the release is known.
    title: String,
    status: Status,
}

/// Raised by a registration (`SourceRegistered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub source_id: String,
    pub content_id: String,
    pub creator_name: String,
    pub title: String,
}

impl Source {
    /// The source of an approved copyright, with the event that says so.
    pub fn register(
        source_id: String,
        content_id: String,
        creator_name: String,
        title: String,
    ) -> (Source, Registered) {
        let registered = Registered {
            source_id: source_id.clone(),
            content_id: content_id.clone(),
            creator_name: creator_name.clone(),
            title: title.clone(),
        };
        let source = Source {
            source_id,
            content_id,
            creator_name,
            title,
            status: Status::Registered,
        };
        (source, registered)
    }

    /// A release that arrived before its approval (events reordered across replicas or
    /// redeliveries): kept, so the late approval finds it and registers nothing.
    pub fn released_early(source_id: String, content_id: String, creator_name: String) -> Source {
        Source {
            source_id,
            content_id,
            creator_name,
            title: String::new(),
            status: Status::Released,
        }
    }

    /// A source as stored.
    pub fn restore(
        source_id: String,
        content_id: String,
        creator_name: String,
        title: String,
        status: Status,
    ) -> Source {
        Source {
            source_id,
            content_id,
            creator_name,
            title,
            status,
        }
    }

    /// An approval for a content that already has its source: a replay, or one that arrived
    /// after the release. Nothing is registered again; a source released early gains the
    /// title only the approval carries. True when something changed.
    pub fn approved_again(&mut self, title: &str) -> bool {
        if !self.title.is_empty() {
            return false;
        }
        self.title = title.to_owned();
        true
    }

    /// Releases the source; true when it was registered.
    pub fn release(&mut self) -> bool {
        let registered = self.status == Status::Registered;
        self.status = Status::Released;
        registered
    }

    pub fn source_id(&self) -> &str {
        &self.source_id
    }

    pub fn content_id(&self) -> &str {
        &self.content_id
    }

    pub fn creator_name(&self) -> &str {
        &self.creator_name
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn status(&self) -> Status {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Source {
        Source::register("s".into(), "c".into(), "TIKITIK".into(), "Today".into()).0
    }

    #[test]
    fn a_registration_raises_what_it_registered() {
        let (source, event) =
            Source::register("s".into(), "c".into(), "TIKITIK".into(), "Today".into());
        assert_eq!(source.status(), Status::Registered);
        assert_eq!(
            (event.source_id.as_str(), event.title.as_str()),
            ("s", "Today")
        );
    }

    #[test]
    fn a_replayed_approval_changes_nothing() {
        let mut source = registered();
        assert!(!source.approved_again("Another"));
        assert_eq!(source.title(), "Today");
    }

    #[test]
    fn a_release_before_the_approval_stays_released_and_gains_the_title() {
        let mut early = Source::released_early("s".into(), "c".into(), "TIKITIK".into());
        assert!(early.approved_again("Today"));
        assert_eq!((early.title(), early.status()), ("Today", Status::Released));
        assert!(!early.release(), "it was never registered");
    }

    #[test]
    fn a_registered_source_is_released() {
        let mut source = registered();
        assert!(source.release());
        assert_eq!(source.status(), Status::Released);
        assert!(!source.release(), "released already");
    }
}
