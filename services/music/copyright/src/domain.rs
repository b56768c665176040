//! An approval and its rules. The content id is the approval's idempotency key: the same
//! request again answers what was recorded; another request under a recorded key is refused,
//! never silently answered with someone else's approval.

/// What a content asks to have approved. Fields are already valid in shape (`input`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub content_id: String,
    pub creator_name: String,
    pub title: String,
    pub kind: String,
    pub original_content_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Approved,
    Released,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "APPROVED",
            Status::Released => "RELEASED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "APPROVED" => Some(Status::Approved),
            "RELEASED" => Some(Status::Released),
            _ => None,
        }
    }
}

/// A recorded copyright: an approval (perhaps released since), or a void recorded for a
/// content abandoned before any approval, which keeps a late approval from going through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copyright {
    approval: Approval,
    status: Status,
    voided: bool,
}

/// Raised by an approval (`CopyrightApproved`); a cover's names the original's creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub approval: Approval,
    pub original_creator_name: String,
}

/// Raised when an approved copyright is released (`CopyrightReleased`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub content_id: String,
    pub creator_name: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApprovalError {
    #[error("a cover or derivative work names its original")]
    CoverWithoutOriginal,
    #[error("a content cannot be its own original")]
    OwnOriginal,
    #[error("was approved for a different request (creator, title, type or original)")]
    KeyReused,
}

impl ApprovalError {
    pub fn field(&self) -> &'static str {
        match self {
            ApprovalError::CoverWithoutOriginal | ApprovalError::OwnOriginal => {
                "original_content_id"
            }
            ApprovalError::KeyReused => "content_id",
        }
    }
}

/// Words that mark a work made from another one: the same rule as content's (content checks
/// first; copyright checks again as the one that approves). A word of the type (split at
/// anything not a letter or digit, case-insensitive) starting with one of these.
const DERIVATIVE_MARKERS: &[&str] = &[
    "cover",
    "derivative",
    "remix",
    "remake",
    "parody",
    "mashup",
    "커버",
    "리믹스",
    "리메이크",
];

/// Covers and derivative works name their original.
fn is_derivative(kind: &str) -> bool {
    let invisible = |c: char| matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}');
    let kind: String = kind.chars().filter(|c| !invisible(*c)).collect();
    kind.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| DERIVATIVE_MARKERS.iter().any(|m| word.starts_with(m)))
}

impl Approval {
    /// Approves a request by the rules (there is no one to ask in the seed: a well-formed
    /// request is approved), with the event it raises.
    pub fn approve(
        self,
        original_creator_name: String,
    ) -> Result<(Copyright, Approved), ApprovalError> {
        if is_derivative(&self.kind) && self.original_content_id.is_empty() {
            return Err(ApprovalError::CoverWithoutOriginal);
        }
        if self.original_content_id == self.content_id {
            return Err(ApprovalError::OwnOriginal);
        }
        let approved = Approved {
            approval: self.clone(),
            original_creator_name,
        };
        let copyright = Copyright {
            approval: self,
            status: Status::Approved,
            voided: false,
        };
        Ok((copyright, approved))
    }

    /// The answer to this request when `recorded` holds its key: a retry of the same
    /// request (or a late one after the content was abandoned) gets what was recorded.
    pub fn answer(&self, recorded: Copyright) -> Result<Copyright, ApprovalError> {
        if recorded.voided || recorded.approval == *self {
            Ok(recorded)
        } else {
            Err(ApprovalError::KeyReused)
        }
    }
}

impl Copyright {
    /// The void recorded for a content abandoned (or deleted) before any approval.
    pub fn void(content_id: String, creator_name: String) -> Copyright {
        Copyright {
            approval: Approval {
                content_id,
                creator_name,
                title: String::new(),
                kind: String::new(),
                original_content_id: String::new(),
            },
            status: Status::Released,
            voided: true,
        }
    }

    /// A copyright as stored.
    pub fn restore(approval: Approval, status: Status, voided: bool) -> Copyright {
        Copyright {
            approval,
            status,
            voided,
        }
    }

    /// Releases an approved copyright and says so; a released one (or a void) raises nothing.
    pub fn release(&mut self) -> Option<Released> {
        if self.status != Status::Approved {
            return None;
        }
        self.status = Status::Released;
        Some(Released {
            content_id: self.approval.content_id.clone(),
            creator_name: self.approval.creator_name.clone(),
        })
    }

    pub fn approval(&self) -> &Approval {
        &self.approval
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn voided(&self) -> bool {
        self.voided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval() -> Approval {
        Approval {
            content_id: "c".into(),
            creator_name: "TIKITIK".into(),
            title: "Today".into(),
            kind: "New Music".into(),
            original_content_id: String::new(),
        }
    }

    #[test]
    fn any_type_that_says_cover_or_derivative_needs_an_original() {
        for kind in ["Cover song", "COVERS", "derivative-work", "Remix", "커버곡"] {
            assert!(is_derivative(kind), "{kind:?}");
        }
        for kind in ["New Music", "Discovery", "recovered tapes"] {
            assert!(!is_derivative(kind), "{kind:?}");
        }
    }

    #[test]
    fn covers_name_another_original() {
        let cover = Approval {
            kind: "Cover".into(),
            ..approval()
        };
        assert_eq!(
            cover.clone().approve(String::new()).unwrap_err(),
            ApprovalError::CoverWithoutOriginal
        );
        let own = Approval {
            original_content_id: "c".into(),
            ..cover
        };
        assert_eq!(
            own.approve(String::new()).unwrap_err(),
            ApprovalError::OwnOriginal
        );
        let (approved, event) = approval().approve("IU".into()).unwrap();
        assert_eq!(approved.status(), Status::Approved);
        assert_eq!(event.original_creator_name, "IU");
    }

    #[test]
    fn a_key_answers_its_own_request_only() {
        let (recorded, _) = approval().approve(String::new()).unwrap();
        assert_eq!(approval().answer(recorded.clone()), Ok(recorded.clone()));
        let others = [
            Approval {
                creator_name: "X".into(),
                ..approval()
            },
            Approval {
                title: "X".into(),
                ..approval()
            },
            Approval {
                kind: "Cover".into(),
                ..approval()
            },
            Approval {
                original_content_id: "o".into(),
                ..approval()
            },
        ];
        for other in others {
            assert_eq!(
                other.answer(recorded.clone()),
                Err(ApprovalError::KeyReused)
            );
        }
        let void = Copyright::void("c".into(), "TIKITIK".into());
        assert_eq!(approval().answer(void.clone()), Ok(void));
    }

    #[test]
    fn an_approval_is_released_once_and_a_void_never() {
        let (mut copyright, _) = approval().approve(String::new()).unwrap();
        let released = copyright.release().expect("approved: released");
        assert_eq!(released.content_id, "c");
        assert_eq!(copyright.status(), Status::Released);
        assert_eq!(copyright.release(), None, "released already");
        let mut void = Copyright::void("c".into(), "TIKITIK".into());
        assert_eq!(void.release(), None, "a void approved nothing");
    }
}
