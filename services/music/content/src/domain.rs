//! A content and its rules.

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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("is required")]
    Missing(&'static str),
    #[error("must be at most 200 characters")]
    TooLong(&'static str),
    #[error("a cover or derivative work names its original")]
    CoverWithoutOriginal,
}

impl ContentError {
    pub fn field(&self) -> &'static str {
        match self {
            ContentError::Missing(field) | ContentError::TooLong(field) => field,
            ContentError::CoverWithoutOriginal => "original_content_id",
        }
    }
}

/// Whether `kind` is a cover or derivative work, which must name a registered original.
pub fn is_derivative(kind: &str) -> bool {
    let kind = kind.trim().to_ascii_lowercase();
    kind == "cover" || kind.starts_with("derivative")
}

impl Content {
    /// The seed's upload: `creatorName`, `title`, `type`, `description`.
    pub fn upload(
        id: String,
        creator_name: &str,
        title: &str,
        kind: &str,
        description: &str,
        original_content_id: &str,
        now: String,
    ) -> Result<Content, ContentError> {
        let creator_name = creator_name.trim();
        let title = title.trim();
        if creator_name.is_empty() {
            return Err(ContentError::Missing("creator_name"));
        }
        if title.is_empty() {
            return Err(ContentError::Missing("title"));
        }
        if creator_name.chars().count() > 200 {
            return Err(ContentError::TooLong("creator_name"));
        }
        if title.chars().count() > 200 {
            return Err(ContentError::TooLong("title"));
        }
        if is_derivative(kind) && original_content_id.trim().is_empty() {
            return Err(ContentError::CoverWithoutOriginal);
        }
        Ok(Content {
            id,
            creator_name: creator_name.to_owned(),
            title: title.to_owned(),
            kind: kind.trim().to_owned(),
            description: description.trim().to_owned(),
            original_content_id: original_content_id.trim().to_owned(),
            status: Status::Uploaded,
            create_time: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_the_seeds_content_and_rejects_a_cover_without_original() {
        let song = Content::upload(
            "1".into(),
            "TIKITIK",
            "The Song Of Today",
            "New Music",
            "",
            "",
            String::new(),
        );
        assert_eq!(song.unwrap().status, Status::Uploaded);
        let cover = Content::upload("2".into(), "X", "Y", "Cover", "", "", String::new());
        assert_eq!(cover, Err(ContentError::CoverWithoutOriginal));
        assert_eq!(
            Content::upload("3".into(), " ", "Y", "", "", "", String::new()),
            Err(ContentError::Missing("creator_name"))
        );
    }
}
