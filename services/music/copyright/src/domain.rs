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

/// A recorded copyright: an approval (perhaps released since), or a void recorded for a
/// content abandoned before any approval, which keeps a late approval from going through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copyright {
    pub approval: Approval,
    /// APPROVED or RELEASED.
    pub status: String,
    pub voided: bool,
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

/// Covers and derivative works name their original (the same rule as content's).
fn is_derivative(kind: &str) -> bool {
    let kind = kind.trim().to_ascii_lowercase();
    kind == "cover" || kind.starts_with("derivative")
}

impl Approval {
    pub fn check(self) -> Result<Approval, ApprovalError> {
        if is_derivative(&self.kind) && self.original_content_id.is_empty() {
            return Err(ApprovalError::CoverWithoutOriginal);
        }
        if self.original_content_id == self.content_id {
            return Err(ApprovalError::OwnOriginal);
        }
        Ok(self)
    }

    /// A new approval.
    pub fn approve(self) -> Copyright {
        Copyright {
            approval: self,
            status: "APPROVED".into(),
            voided: false,
        }
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
            status: "RELEASED".into(),
            voided: true,
        }
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
    fn covers_name_another_original() {
        let cover = Approval {
            kind: "Cover".into(),
            ..approval()
        };
        assert_eq!(
            cover.clone().check(),
            Err(ApprovalError::CoverWithoutOriginal)
        );
        let own = Approval {
            original_content_id: "c".into(),
            ..cover
        };
        assert_eq!(own.check(), Err(ApprovalError::OwnOriginal));
        assert!(approval().check().is_ok());
    }

    #[test]
    fn a_key_answers_its_own_request_only() {
        let recorded = approval().approve();
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
}
