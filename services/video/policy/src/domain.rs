//! Policy's rules, free of transport and storage. A policy holds the views a client needs for
//! a refund, the words no title may contain and the video its deletion takes down; every
//! change raises the whole policy as it now is, at the policy's next version. Titles are
//! checked against every live policy's banned words, both folded (see `folded`). A refund is decided
//! once per request against the most lenient live policy (the lowest `refund_policy`: a client
//! meeting any policy's bar qualifies), with no policy at all it is rejected.

/// Most banned words a policy holds (every policy's words are read for each title check).
pub const BANNED_WORDS_MAX: usize = 20;
/// Longest banned word.
pub const BANNED_WORD_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    policy_id: String,
    refund_policy: i64,
    delete_video_id: String,
    banned_words: Vec<String>,
    version: i64,
    deleted: bool,
}

/// What a change asks for (fields checked at the edge); `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub refund_policy: Option<i64>,
    pub delete_video_id: Option<String>,
    pub banned_words: Option<Vec<String>>,
}

/// Raised by a registration or a change (`PolicyChanged`): the policy as it now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub policy_id: String,
    pub refund_policy: i64,
    pub delete_video_id: String,
    pub banned_words: Vec<String>,
    pub version: i64,
}

/// Raised by a deletion (`PolicyDeleted`), with the takedown it orders, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub policy_id: String,
    pub delete_video_id: String,
    pub version: i64,
    pub takedown: Option<Takedown>,
}

/// A video to take down (`VideoTakedownOrdered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takedown {
    pub video_id: String,
    pub policy_id: String,
    pub reason: String,
}

impl Policy {
    pub fn register(
        policy_id: String,
        refund_policy: i64,
        delete_video_id: String,
        banned_words: Vec<String>,
    ) -> (Policy, Changed) {
        let policy = Policy {
            policy_id,
            refund_policy,
            delete_video_id,
            banned_words: normalize(banned_words),
            version: 1,
            deleted: false,
        };
        let changed = policy.changed();
        (policy, changed)
    }

    pub fn restore(
        policy_id: String,
        refund_policy: i64,
        delete_video_id: String,
        banned_words: Vec<String>,
        version: i64,
        deleted: bool,
    ) -> Policy {
        Policy {
            policy_id,
            refund_policy,
            delete_video_id,
            banned_words,
            version,
            deleted,
        }
    }

    /// Applies a change to a live policy; `None` for a deleted one (it is gone).
    pub fn update(&mut self, patch: Patch) -> Option<Changed> {
        if self.deleted {
            return None;
        }
        if let Some(refund_policy) = patch.refund_policy {
            self.refund_policy = refund_policy;
        }
        if let Some(video) = patch.delete_video_id {
            self.delete_video_id = video;
        }
        if let Some(words) = patch.banned_words {
            self.banned_words = normalize(words);
        }
        self.version += 1;
        Some(self.changed())
    }

    /// Deletes a live policy (its id stays retired); a policy naming a video orders that
    /// video taken down (the seed's behaviour). `None` if it was deleted already.
    pub fn delete(&mut self) -> Option<Deleted> {
        if self.deleted {
            return None;
        }
        self.deleted = true;
        self.version += 1;
        let takedown = (!self.delete_video_id.is_empty()).then(|| Takedown {
            video_id: self.delete_video_id.clone(),
            policy_id: self.policy_id.clone(),
            reason: format!("policy {} deleted", self.policy_id),
        });
        Some(Deleted {
            policy_id: self.policy_id.clone(),
            delete_video_id: self.delete_video_id.clone(),
            version: self.version,
            takedown,
        })
    }

    fn changed(&self) -> Changed {
        Changed {
            policy_id: self.policy_id.clone(),
            refund_policy: self.refund_policy,
            delete_video_id: self.delete_video_id.clone(),
            banned_words: self.banned_words.clone(),
            version: self.version,
        }
    }

    /// Whether `asked` (a registration under this policy's id) asks for this policy as it is:
    /// a client retrying after a lost answer (AIP-155) is answered the policy, anything else
    /// under a taken id is refused.
    pub fn same_request(&self, asked: &Policy) -> bool {
        !self.deleted
            && self.refund_policy == asked.refund_policy
            && self.delete_video_id == asked.delete_video_id
            && self.banned_words == asked.banned_words
    }

    /// The first of this policy's banned words `title` contains, compared folded: neither
    /// case (`STRASSE`, `İSTANBUL`), accents, compatibility forms (`ſpam`) nor invisible
    /// characters (`sp\u{200b}am`) get a title past the list.
    pub fn banned_word_in(&self, title: &str) -> Option<&str> {
        let title = folded(title);
        self.banned_words
            .iter()
            .find(|w| {
                let word = folded(w);
                !word.is_empty() && title.contains(&word)
            })
            .map(String::as_str)
    }

    pub fn policy_id(&self) -> &str {
        &self.policy_id
    }

    pub fn refund_policy(&self) -> i64 {
        self.refund_policy
    }

    pub fn delete_video_id(&self) -> &str {
        &self.delete_video_id
    }

    pub fn banned_words(&self) -> &[String] {
        &self.banned_words
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
}

/// Words kept once each, in the order given.
fn normalize(words: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(words.len());
    for word in words {
        if !kept.iter().any(|k| folded(k) == folded(&word)) {
            kept.push(word);
        }
    }
    kept
}

/// `text` as banned words are compared: compatibility-decomposed (NFKD), without marks
/// (accents, the dot of `İ`) or format characters (zero-width spaces, direction overrides),
/// lowercased, `ß` as `ss` and a final sigma as any other.
fn folded(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    let mut out = String::with_capacity(text.len());
    let kept = text.nfkd().filter(|c| {
        c.general_category_group() != GeneralCategoryGroup::Mark
            && c.general_category() != GeneralCategory::Format
    });
    for c in kept.flat_map(char::to_lowercase) {
        match c {
            'ß' => out.push_str("ss"),
            'ς' => out.push('σ'),
            _ => out.push(c),
        }
    }
    out
}

/// The takedown a title calls for under the live `policies`, if any.
pub fn check_title(video_id: &str, title: &str, policies: &[Policy]) -> Option<Takedown> {
    policies.iter().filter(|p| !p.deleted).find_map(|p| {
        p.banned_word_in(title).map(|word| Takedown {
            video_id: video_id.to_owned(),
            policy_id: p.policy_id.clone(),
            reason: format!("title contains the banned word {word:?}"),
        })
    })
}

/// A video as policy last saw it: only newer uploads and edits are checked.
pub fn is_newer(seen: Option<i64>, version: i64) -> bool {
    seen.is_none_or(|seen| version > seen)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "APPROVED",
            Verdict::Rejected => "REJECTED",
        }
    }
}

/// A refund request's decision (`RefundDecided`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub refund_request_id: String,
    pub client_id: String,
    pub verdict: Verdict,
    pub total_view: i64,
    /// The bar applied (0 when no policy exists).
    pub refund_policy: i64,
}

/// Decides a refund: approved when the client's total views (as carried by the request,
/// the client's own figure when it asked) reach `bar`, the most lenient live policy's (the
/// lowest `refund_policy`: a client meeting any policy's bar qualifies); no policy
/// (`None`), rejected.
pub fn decide(
    refund_request_id: &str,
    client_id: &str,
    total_view: i64,
    bar: Option<i64>,
) -> Decision {
    let verdict = match bar {
        Some(bar) if total_view >= bar => Verdict::Approved,
        _ => Verdict::Rejected,
    };
    Decision {
        refund_request_id: refund_request_id.to_owned(),
        client_id: client_id.to_owned(),
        verdict,
        total_view,
        refund_policy: bar.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(id: &str, bar: i64, words: &[&str]) -> Policy {
        let words = words.iter().map(|w| w.to_string()).collect();
        Policy::register(id.into(), bar, String::new(), words).0
    }

    #[test]
    fn every_change_raises_the_whole_policy_at_the_next_version() {
        let (mut p, changed) = Policy::register("1".into(), 10, "1".into(), vec![]);
        assert_eq!((changed.version, changed.refund_policy), (1, 10));
        let patch = Patch {
            refund_policy: Some(5),
            ..Patch::default()
        };
        let changed = p.update(patch).unwrap();
        assert_eq!(
            (
                changed.version,
                changed.refund_policy,
                changed.delete_video_id
            ),
            (2, 5, "1".to_string())
        );
    }

    #[test]
    fn a_retried_registration_is_the_same_request_until_the_policy_changes() {
        let words = || vec!["a".to_string(), "A".to_string()];
        let (mut p, _) = Policy::register("1".into(), 10, "v1".into(), words());
        let (retry, _) = Policy::register("1".into(), 10, "v1".into(), words());
        assert!(p.same_request(&retry));
        let (other, _) = Policy::register("1".into(), 11, "v1".into(), words());
        assert!(!p.same_request(&other));
        p.delete();
        assert!(!p.same_request(&retry), "a deleted policy's id is retired");
    }

    #[test]
    fn deleting_a_policy_naming_a_video_takes_it_down_once() {
        let (mut p, _) = Policy::register("1".into(), 10, "v1".into(), vec![]);
        let deleted = p.delete().unwrap();
        assert_eq!(deleted.version, 2);
        assert_eq!(deleted.takedown.unwrap().video_id, "v1");
        assert_eq!(p.delete(), None, "deleted once");
        assert_eq!(p.update(Patch::default()), None, "a deleted policy is gone");
        let (mut plain, _) = Policy::register("2".into(), 10, String::new(), vec![]);
        assert_eq!(plain.delete().unwrap().takedown, None);
    }

    #[test]
    fn a_banned_word_anywhere_in_a_title_ignoring_case_orders_a_takedown() {
        let policies = [
            policy("1", 10, &["spam"]),
            policy("2", 5, &["Scam", "scam"]),
        ];
        assert_eq!(policies[1].banned_words(), ["Scam"], "kept once");
        let t = check_title("v1", "Free SCAMS here", &policies).unwrap();
        assert_eq!((t.video_id.as_str(), t.policy_id.as_str()), ("v1", "2"));
        assert!(check_title("v1", "cooking", &policies).is_none());
        let mut gone = policy("3", 1, &["cook"]);
        gone.delete();
        assert!(check_title("v1", "cooking", &[gone]).is_none());
    }

    #[test]
    fn neither_case_accents_nor_invisible_characters_get_a_title_past_a_banned_word() {
        let words = ["spam", "ärger", "Straße", "İSTANBUL", "ΣΟΦΟΣ"];
        let policies = [policy("1", 1, &words)];
        for title in [
            "SPAM here",
            "SpAm",
            "ÄRGER",
            "straße",
            "STRASSE",
            "istanbul",
            "σοφος",
            "σοφοσ",
            "ſpam",
            "sp\u{200b}am",
            "sp\u{202e}am",
        ] {
            assert!(check_title("v1", title, &policies).is_some(), "{title:?}");
        }
        assert!(check_title("v1", "sp am", &policies).is_none());
        assert_eq!(
            policy("2", 1, &["Straße", "STRASSE"]).banned_words().len(),
            1
        );
    }

    #[test]
    fn a_refund_needs_the_bars_views_and_some_policy() {
        let d = decide("r1", "c1", 5, Some(5));
        assert_eq!((d.verdict, d.refund_policy), (Verdict::Approved, 5));
        assert_eq!(decide("r1", "c1", 4, Some(5)).verdict, Verdict::Rejected);
        let none = decide("r1", "c1", 1000, None);
        assert_eq!((none.verdict, none.refund_policy), (Verdict::Rejected, 0));
    }

    #[test]
    fn only_newer_video_versions_are_checked() {
        assert!(is_newer(None, 1));
        assert!(is_newer(Some(1), 2));
        assert!(!is_newer(Some(2), 2));
        assert!(!is_newer(Some(3), 2));
    }
}
