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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: String,
    pub creator_name: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    pub original_content_id: String,
    pub status: Status,
    pub create_time: String,
}

/// Why a content cannot be uploaded; every one is about the original it names.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("a cover or derivative work names its original")]
    CoverWithoutOriginal,
    #[error("a content cannot be its own original")]
    OwnOriginal,
    #[error("names no content")]
    NoSuchOriginal,
    #[error("the original was deleted")]
    OriginalDeleted,
    #[error("the original is {0}, not yet REGISTERED")]
    OriginalNotRegistered(&'static str),
}

impl ContentError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        "original_content_id"
    }
}

/// Whether `kind` is a cover or derivative work, which must name a registered original.
pub fn is_derivative(kind: &str) -> bool {
    let kind = kind.trim().to_ascii_lowercase();
    kind == "cover" || kind.starts_with("derivative")
}

impl Content {
    /// The seed's upload: `creatorName`, `title`, `type`, `description`, and the original a
    /// cover names (empty for none). The fields are already valid in shape.
    pub fn upload(
        id: String,
        creator_name: String,
        title: String,
        kind: String,
        description: String,
        original_content_id: String,
        now: String,
    ) -> Result<Content, ContentError> {
        if is_derivative(&kind) && original_content_id.is_empty() {
            return Err(ContentError::CoverWithoutOriginal);
        }
        if original_content_id == id {
            return Err(ContentError::OwnOriginal);
        }
        Ok(Content {
            id,
            creator_name,
            title,
            kind,
            description,
            original_content_id,
            status: Status::Uploaded,
            create_time: now,
        })
    }

    /// Whether this content names an original.
    pub fn names_original(&self) -> bool {
        !self.original_content_id.is_empty()
    }

    /// A named original must exist and be registered: not on its way (its copyright may
    /// still fail) and not deleted (its copyright is released).
    pub fn check_original(&self, original: Option<&Content>) -> Result<(), ContentError> {
        match original.map(|o| o.status) {
            None => Err(ContentError::NoSuchOriginal),
            Some(Status::Registered) => Ok(()),
            Some(Status::Deleted | Status::Released) => Err(ContentError::OriginalDeleted),
            Some(other) => Err(ContentError::OriginalNotRegistered(other.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(id: &str, kind: &str, original: &str) -> Result<Content, ContentError> {
        Content::upload(
            id.into(),
            "TIKITIK".into(),
            "The Song Of Today".into(),
            kind.into(),
            String::new(),
            original.into(),
            String::new(),
        )
    }

    #[test]
    fn uploads_the_seeds_content_and_rejects_a_cover_without_original() {
        assert_eq!(
            upload("1", "New Music", "").unwrap().status,
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
    fn a_cover_names_a_registered_original() {
        let cover = upload("c", "Cover", "o").unwrap();
        let mut original = upload("o", "New Music", "").unwrap();
        assert_eq!(
            cover.check_original(None),
            Err(ContentError::NoSuchOriginal)
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
            original.status = status;
            assert_eq!(
                cover.check_original(Some(&original)),
                expected,
                "{status:?}"
            );
        }
    }
}
