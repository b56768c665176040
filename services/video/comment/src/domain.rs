//! Comment's rules. A comment names a video that exists: comment keeps its own replica of
//! the videos, fed by versioned video events (a stale event changes nothing; a deleted or
//! taken-down video is gone for good, even one never heard of before), and a video the
//! replica has not heard of is asked of video. A gone video loses its comments. A deleted
//! comment keeps its id retired.

/// A video as the replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaVideo {
    video_id: String,
    version: i64,
    gone: bool,
}

/// Whether a comment may be written on a video, by what the replica knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCheck {
    /// The replica knows the video is live.
    Known,
    /// The replica has not heard of it (uploaded a moment ago?): ask video.
    Ask,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("video {0:?} not found")]
    VideoNotFound(String),
}

impl ReplicaVideo {
    /// A video first heard of through its upload at `version`.
    pub fn uploaded(video_id: &str, version: i64) -> ReplicaVideo {
        ReplicaVideo {
            video_id: video_id.to_owned(),
            version,
            gone: false,
        }
    }

    /// A video first heard of through its deletion or takedown.
    pub fn gone(video_id: &str, version: i64) -> ReplicaVideo {
        ReplicaVideo {
            video_id: video_id.to_owned(),
            version,
            gone: true,
        }
    }

    /// A live video video confirmed when asked: version 0, so its own events still apply.
    pub fn learned(video_id: &str) -> ReplicaVideo {
        ReplicaVideo::uploaded(video_id, 0)
    }

    pub fn restore(video_id: String, version: i64, gone: bool) -> ReplicaVideo {
        ReplicaVideo {
            video_id,
            version,
            gone,
        }
    }

    /// The upload at `version`; false (nothing changes) for a stale or repeated one.
    pub fn upload(&mut self, version: i64) -> bool {
        if version <= self.version {
            return false;
        }
        self.version = version;
        true
    }

    /// The video deleted or taken down, for good; true the first time (its comments go).
    pub fn remove(&mut self, version: i64) -> bool {
        let first = !self.gone;
        self.gone = true;
        self.version = self.version.max(version);
        first
    }

    /// Whether a comment may name this video (`None`: the replica has not heard of it).
    pub fn check(replica: Option<&ReplicaVideo>) -> Result<VideoCheck, CommentError> {
        match replica {
            None => Ok(VideoCheck::Ask),
            Some(v) if v.gone => Err(CommentError::VideoNotFound(v.video_id.clone())),
            Some(_) => Ok(VideoCheck::Known),
        }
    }

    pub fn video_id(&self) -> &str {
        &self.video_id
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn is_gone(&self) -> bool {
        self.gone
    }
}

/// A comment on a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    comment_id: String,
    video_id: String,
    client_id: String,
    contents: String,
    create_time: String,
    deleted: bool,
}

impl Comment {
    /// A new comment (fields checked at the edge, the video by the replica or by video).
    pub fn write(
        comment_id: String,
        video_id: String,
        client_id: String,
        contents: String,
        create_time: String,
    ) -> Comment {
        Comment {
            comment_id,
            video_id,
            client_id,
            contents,
            create_time,
            deleted: false,
        }
    }

    pub fn restore(
        comment_id: String,
        video_id: String,
        client_id: String,
        contents: String,
        create_time: String,
        deleted: bool,
    ) -> Comment {
        Comment {
            comment_id,
            video_id,
            client_id,
            contents,
            create_time,
            deleted,
        }
    }

    /// Whether `asked` (a comment under this one's id) asks for this comment as it is: a
    /// client retrying after a lost answer (AIP-155) is answered the comment, anything else
    /// under a taken id is refused.
    pub fn same_request(&self, asked: &Comment) -> bool {
        !self.deleted
            && self.video_id == asked.video_id
            && self.client_id == asked.client_id
            && self.contents == asked.contents
    }

    /// New contents for a live comment; false for a deleted one (it is gone).
    pub fn edit(&mut self, contents: String) -> bool {
        if self.deleted {
            return false;
        }
        self.contents = contents;
        true
    }

    /// Deletes a live comment (its contents go, its id stays retired); false if deleted
    /// already.
    pub fn delete(&mut self) -> bool {
        if self.deleted {
            return false;
        }
        self.deleted = true;
        self.contents.clear();
        true
    }

    pub fn comment_id(&self) -> &str {
        &self.comment_id
    }

    pub fn video_id(&self) -> &str {
        &self.video_id
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn contents(&self) -> &str {
        &self.contents
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
    fn the_replica_follows_video_versions_and_a_gone_video_stays_gone() {
        let mut v = ReplicaVideo::uploaded("v1", 1);
        assert!(!v.upload(1), "repeated");
        assert!(v.remove(3));
        assert!(!v.remove(4), "gone once: its comments go once");
        assert!(!v.upload(2), "its upload delivered late");
        assert_eq!(
            ReplicaVideo::check(Some(&v)),
            Err(CommentError::VideoNotFound("v1".into()))
        );
        let mut early = ReplicaVideo::gone("v2", 2);
        assert!(!early.upload(1));
        assert!(early.is_gone());
        assert!(
            ReplicaVideo::learned("v3").clone().upload(1),
            "events apply after asking"
        );
    }

    #[test]
    fn a_video_not_heard_of_is_asked_of_video() {
        assert_eq!(ReplicaVideo::check(None), Ok(VideoCheck::Ask));
        let live = ReplicaVideo::uploaded("v1", 1);
        assert_eq!(ReplicaVideo::check(Some(&live)), Ok(VideoCheck::Known));
    }

    #[test]
    fn a_comment_is_edited_while_live_and_deleted_once() {
        let mut c = Comment::write(
            "1".into(),
            "v1".into(),
            "c1".into(),
            "hi".into(),
            "t".into(),
        );
        assert!(c.edit("hello".into()));
        assert_eq!(c.contents(), "hello");
        assert!(c.delete());
        assert!(c.contents().is_empty());
        assert!(!c.delete());
        assert!(!c.edit("again".into()));
    }
}
