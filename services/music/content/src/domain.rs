//! A content and its rules. Shapes (ids, lengths, printable text) are checked at the edge by
//! `mediamesh_mesh::input`; the rules here are the business's: what a cover must name.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Recorded, copyright approval under way.
    Uploaded,
    Approved,
    /// Its sound source is registered.
    Registered,
    /// Copyright approval failed or was unreachable: never registered.
    Failed,
    /// The creator deleted it; its copyright is being released.
    Deleted,
    Released,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Uploaded => "UPLOADED",
            Status::Approved => "APPROVED",
            Status::Registered => "REGISTERED",
            Status::Failed => "FAILED",
            Status::Deleted => "DELETED",
            Status::Released => "RELEASED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Uploaded,
            Status::Approved,
            Status::Registered,
            Status::Failed,
            Status::Deleted,
            Status::Released,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// What a creator uploads; every field already valid in shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub id: String,
    pub creator_name: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    /// Empty when the content names no original.
    pub original_content_id: String,
    pub create_time: String,
}

/// A content: what was uploaded and how far it went. Its status moves only through the
/// transitions below, each of which checks where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    details: Details,
    status: Status,
}

/// Why a content cannot be uploaded or deleted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("a cover or derivative work names its original")]
    CoverWithoutOriginal,
    #[error("a content cannot be its own original")]
    OwnOriginal,
    /// The original named is not a content (its id): answered NOT_FOUND.
    #[error("content {0:?} not found")]
    NoSuchOriginal(String),
    #[error("the original was deleted")]
    OriginalDeleted,
    #[error("the original is {0}, not yet REGISTERED")]
    OriginalNotRegistered(&'static str),
    #[error("content is {0} and cannot be deleted")]
    NotDeletable(&'static str),
}

impl ContentError {
    /// The request field an upload error is about.
    pub fn field(&self) -> &'static str {
        "original_content_id"
    }
}

/// Raised when an upload fails after it was recorded (`ContentUploadFailed`): copyright
/// releases an approval that went through after all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFailed {
    pub content_id: String,
    pub creator_name: String,
}

/// Raised when a creator deletes a live content (`ContentDeleted`): the release saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub content_id: String,
    pub creator_name: String,
}

/// Words that mark a work made from another one. `type` is free text in the contract, so
/// the rule reads what the label says rather than matching a closed set: any word of it
/// (split at anything not a letter or digit, case-insensitive) that starts with one of
/// these makes the upload a derivative ("Cover song", "COVERS", "derivative-work",
/// "Remix", "커버곡"). Words that merely contain one ("Discovery", "recovered") do not.
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

/// Invisible characters that would otherwise split a word in two ("Co\u{200B}ver").
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Whether `kind` is a cover or derivative work, which must name a registered original.
pub fn is_derivative(kind: &str) -> bool {
    let kind: String = kind.chars().filter(|c| !invisible(*c)).collect();
    kind.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| DERIVATIVE_MARKERS.iter().any(|m| word.starts_with(m)))
}

/// The statuses a content can be deleted from (its copyright is approved).
pub const LIVE: [Status; 2] = [Status::Approved, Status::Registered];

impl Content {
    /// The seed's upload: `creatorName`, `title`, `type`, `description`, and the original a
    /// cover names (empty for none).
    pub fn upload(details: Details) -> Result<Content, ContentError> {
        if is_derivative(&details.kind) && details.original_content_id.is_empty() {
            return Err(ContentError::CoverWithoutOriginal);
        }
        if details.original_content_id == details.id {
            return Err(ContentError::OwnOriginal);
        }
        Ok(Content {
            details,
            status: Status::Uploaded,
        })
    }

    /// A content as stored.
    pub fn restore(details: Details, status: Status) -> Content {
        Content { details, status }
    }

    pub fn details(&self) -> &Details {
        &self.details
    }

    /// Whether `other` uploads what this content was uploaded as (every field the creator
    /// sent): a retry of it, rather than another upload under the same id.
    pub fn same_request(&self, other: &Content) -> bool {
        let (a, b) = (&self.details, &other.details);
        (
            &a.creator_name,
            &a.title,
            &a.kind,
            &a.description,
            &a.original_content_id,
        ) == (
            &b.creator_name,
            &b.title,
            &b.kind,
            &b.description,
            &b.original_content_id,
        )
    }

    pub fn id(&self) -> &str {
        &self.details.id
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// Whether this content names an original.
    pub fn names_original(&self) -> bool {
        !self.details.original_content_id.is_empty()
    }

    /// A named original must exist and be registered: not on its way (its copyright may
    /// still fail) and not deleted (its copyright is released).
    pub fn check_original(&self, original: Option<&Content>) -> Result<(), ContentError> {
        match original.map(|o| o.status) {
            None => Err(ContentError::NoSuchOriginal(
                self.details.original_content_id.clone(),
            )),
            Some(Status::Registered) => Ok(()),
            Some(Status::Deleted | Status::Released) => Err(ContentError::OriginalDeleted),
            Some(other) => Err(ContentError::OriginalNotRegistered(other.as_str())),
        }
    }

    /// Copyright approved the upload; false when it was settled already.
    pub fn approve(&mut self) -> bool {
        if self.status != Status::Uploaded {
            return false;
        }
        self.status = Status::Approved;
        true
    }

    /// The upload failed (refused or unanswered); what it raises, unless settled already.
    pub fn fail(&mut self) -> Option<UploadFailed> {
        if self.status != Status::Uploaded {
            return None;
        }
        self.status = Status::Failed;
        Some(UploadFailed {
            content_id: self.details.id.clone(),
            creator_name: self.details.creator_name.clone(),
        })
    }

    /// Deletes a live content and raises the release saga; deleting again raises nothing,
    /// and a content whose copyright never was approved cannot be deleted.
    pub fn delete(&mut self) -> Result<Option<Deleted>, ContentError> {
        match self.status {
            Status::Approved | Status::Registered => {
                self.status = Status::Deleted;
                Ok(Some(Deleted {
                    content_id: self.details.id.clone(),
                    creator_name: self.details.creator_name.clone(),
                }))
            }
            Status::Deleted | Status::Released => Ok(None),
            other => Err(ContentError::NotDeletable(other.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(id: &str, kind: &str, original: &str) -> Result<Content, ContentError> {
        Content::upload(Details {
            id: id.into(),
            creator_name: "TIKITIK".into(),
            title: "The Song Of Today".into(),
            kind: kind.into(),
            description: String::new(),
            original_content_id: original.into(),
            create_time: String::new(),
        })
    }

    #[test]
    fn uploads_the_seeds_content_and_rejects_a_cover_without_original() {
        assert_eq!(
            upload("1", "New Music", "").unwrap().status(),
            Status::Uploaded
        );
        assert_eq!(
            upload("2", "Cover", ""),
            Err(ContentError::CoverWithoutOriginal)
        );
        assert_eq!(
            upload("2", "Derivative work", ""),
            Err(ContentError::CoverWithoutOriginal)
        );
        assert_eq!(upload("3", "Cover", "3"), Err(ContentError::OwnOriginal));
    }

    #[test]
    fn a_retry_uploads_the_same_fields() {
        let mut first = upload("1", "New Music", "").unwrap();
        first.approve();
        let mut later = upload("1", "New Music", "").unwrap();
        later.details.create_time = "later".into();
        assert!(
            first.same_request(&later),
            "status and time are not the request"
        );
        let other = upload("1", "Other Music", "").unwrap();
        assert!(!first.same_request(&other));
    }

    #[test]
    fn any_type_that_says_cover_or_derivative_is_one() {
        for kind in [
            "cover",
            "Cover song",
            "COVERS",
            "A cover",
            "cover-version",
            "Acoustic (cover)",
            "derivative",
            "Derivative work",
            "a derivative",
            "Remix",
            "live remake",
            "커버곡",
            "Co\u{200B}ver song",
        ] {
            assert!(is_derivative(kind), "{kind:?}");
            assert_eq!(
                upload("2", kind, ""),
                Err(ContentError::CoverWithoutOriginal),
                "{kind:?}"
            );
        }
        for kind in ["", "New Music", "Discovery", "recovered tapes", "original"] {
            assert!(!is_derivative(kind), "{kind:?}");
        }
    }

    #[test]
    fn a_cover_names_a_registered_original() {
        let cover = upload("c", "Cover", "o").unwrap();
        let original = upload("o", "New Music", "").unwrap();
        assert_eq!(
            cover.check_original(None),
            Err(ContentError::NoSuchOriginal("o".into()))
        );
        for (status, expected) in [
            (Status::Registered, Ok(())),
            (
                Status::Uploaded,
                Err(ContentError::OriginalNotRegistered("UPLOADED")),
            ),
            (
                Status::Approved,
                Err(ContentError::OriginalNotRegistered("APPROVED")),
            ),
            (
                Status::Failed,
                Err(ContentError::OriginalNotRegistered("FAILED")),
            ),
            (Status::Deleted, Err(ContentError::OriginalDeleted)),
            (Status::Released, Err(ContentError::OriginalDeleted)),
        ] {
            let original = Content::restore(original.details().clone(), status);
            assert_eq!(
                cover.check_original(Some(&original)),
                expected,
                "{status:?}"
            );
        }
    }

    #[test]
    fn an_upload_settles_once() {
        let mut approved = upload("1", "New Music", "").unwrap();
        assert!(approved.approve());
        assert!(!approved.approve(), "settled already");
        assert_eq!(approved.fail(), None, "an approved upload does not fail");
        let mut failed = upload("2", "New Music", "").unwrap();
        let event = failed.fail().expect("uploaded: fails");
        assert_eq!(event.content_id, "2");
        assert_eq!(failed.status(), Status::Failed);
        assert!(!failed.approve(), "a failed upload is never approved");
    }

    #[test]
    fn only_a_live_content_is_deleted_and_once() {
        let mut content = upload("1", "New Music", "").unwrap();
        assert_eq!(
            content.delete(),
            Err(ContentError::NotDeletable("UPLOADED"))
        );
        content.approve();
        assert_eq!(content.delete().unwrap().unwrap().content_id, "1");
        assert_eq!(content.status(), Status::Deleted);
        assert_eq!(content.delete(), Ok(None), "deleting again raises nothing");
        let mut failed = Content::restore(content.details().clone(), Status::Failed);
        assert_eq!(failed.delete(), Err(ContentError::NotDeletable("FAILED")));
    }
}
