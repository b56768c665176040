//! The mypage rules: a content's page only moves forward (APPROVED, REGISTERED, DELETED,
//! RELEASED), whatever order its events arrive in; creator and title fill in from whichever
//! event carries them; a cover's approval lists it on its original's page.

/// Covers listed per content: a popular original can have any number, and one page must
/// still fit the gateway (every id is at most 64 bytes).
pub const COVERS_SHOWN: i64 = 50;

/// The steps of a content, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Approved = 1,
    Registered = 2,
    Deleted = 3,
    Released = 4,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Approved => "APPROVED",
            Step::Registered => "REGISTERED",
            Step::Deleted => "DELETED",
            Step::Released => "RELEASED",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        [
            Step::Approved,
            Step::Registered,
            Step::Deleted,
            Step::Released,
        ]
        .into_iter()
        .find(|step| step.as_str() == s)
    }

    /// Its rank, stored beside the status (older pages are ordered by it).
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// What one event says of a content's page (empty creator or title: not carried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub content_id: String,
    pub creator_name: String,
    pub title: String,
    pub step: Step,
}

/// A cover shown on its original's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub original_content_id: String,
    pub cover_content_id: String,
}

impl Progress {
    pub fn new(content_id: &str, creator_name: &str, title: &str, step: Step) -> Progress {
        Progress {
            content_id: content_id.to_owned(),
            creator_name: creator_name.to_owned(),
            title: title.to_owned(),
            step,
        }
    }

    /// An approved copyright; a cover's also lists it on its original's page.
    pub fn approved(
        content_id: &str,
        creator_name: &str,
        title: &str,
        original_content_id: &str,
    ) -> (Progress, Option<Cover>) {
        let progress = Progress::new(content_id, creator_name, title, Step::Approved);
        let cover =
            (!original_content_id.is_empty() && original_content_id != content_id).then(|| Cover {
                original_content_id: original_content_id.to_owned(),
                cover_content_id: content_id.to_owned(),
            });
        (progress, cover)
    }

    /// The page once `next` is applied to it: the further step, and the first creator and
    /// title known.
    pub fn then(self, next: Progress) -> Progress {
        let first = |known: String, new: String| if known.is_empty() { new } else { known };
        Progress {
            content_id: self.content_id,
            creator_name: first(self.creator_name, next.creator_name),
            title: first(self.title, next.title),
            step: self.step.max(next.step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(events: &[Progress]) -> Progress {
        let mut events = events.iter().cloned();
        let first = events.next().unwrap();
        events.fold(first, Progress::then)
    }

    #[test]
    fn a_page_only_moves_forward_whatever_the_order() {
        let (approved, _) = Progress::approved("c", "TIKITIK", "Today", "");
        let registered = Progress::new("c", "TIKITIK", "Today", Step::Registered);
        let deleted = Progress::new("c", "TIKITIK", "", Step::Deleted);
        let released = Progress::new("c", "TIKITIK", "", Step::Released);
        let in_order = replay(&[
            approved.clone(),
            registered.clone(),
            deleted.clone(),
            released.clone(),
        ]);
        let reordered = replay(&[released, registered, deleted, approved.clone(), approved]);
        assert_eq!(in_order, reordered);
        assert_eq!(
            (in_order.step, in_order.title.as_str()),
            (Step::Released, "Today"),
            "a late approval still brings the title"
        );
    }

    #[test]
    fn a_cover_is_listed_on_its_original() {
        let (_, cover) = Progress::approved("c", "IU", "Today", "o");
        assert_eq!(
            cover,
            Some(Cover {
                original_content_id: "o".into(),
                cover_content_id: "c".into()
            })
        );
        assert_eq!(Progress::approved("c", "IU", "Today", "").1, None);
        assert_eq!(
            Progress::approved("c", "IU", "Today", "c").1,
            None,
            "never its own cover"
        );
    }

    #[test]
    fn steps_are_ranked_in_order() {
        let ranks: Vec<i64> = [
            Step::Approved,
            Step::Registered,
            Step::Deleted,
            Step::Released,
        ]
        .iter()
        .map(|s| s.rank())
        .collect();
        assert_eq!(ranks, [1, 2, 3, 4]);
    }
}
