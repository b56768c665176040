//! The channel view's rules: a client's screen built from events only, so the same events
//! in any order give the same screen (`mediamesh views rebuild` relies on it). Each part
//! follows its own aggregate's versions: a channel's name (created, renamed) and its totals
//! apply only when newer; a video's content only when newer; a deleted channel or video and
//! a taken-down video stay so; a refund's decision wins over its request.

/// Most channels and refunds one screen shows (a screen always fits the gateway; the counts
/// beside them say how many there are). Videos are paged (`Keyset`, newest upload first).
pub const CHANNELS_SHOWN: i64 = 50;
pub const REFUNDS_SHOWN: i64 = 50;

/// A version-ordered value: `set` applies only a newer version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versioned(pub i64);

impl Versioned {
    /// Placeholder for a row first heard of through another part (every version applies).
    pub const NONE: Versioned = Versioned(0);

    pub fn newer(&mut self, version: i64) -> bool {
        if version <= self.0 {
            return false;
        }
        self.0 = version;
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub channel_id: String,
    pub client_id: String,
    pub channel_name: String,
    pub name_version: Versioned,
    pub total_view: i64,
    pub video_count: i32,
    pub total_version: Versioned,
    pub deleted: bool,
}

impl ChannelRow {
    pub fn placeholder(channel_id: &str, client_id: &str) -> ChannelRow {
        ChannelRow {
            channel_id: channel_id.to_owned(),
            client_id: client_id.to_owned(),
            channel_name: String::new(),
            name_version: Versioned::NONE,
            total_view: 0,
            video_count: 0,
            total_version: Versioned::NONE,
            deleted: false,
        }
    }

    /// Created or renamed at `version`.
    pub fn name(&mut self, name: &str, version: i64) -> bool {
        if !self.name_version.newer(version) {
            return false;
        }
        self.channel_name = name.to_owned();
        true
    }

    pub fn totals(&mut self, total_view: i64, video_count: i32, version: i64) -> bool {
        if !self.total_version.newer(version) {
            return false;
        }
        self.total_view = total_view;
        self.video_count = video_count;
        true
    }

    pub fn delete(&mut self) -> bool {
        !std::mem::replace(&mut self.deleted, true)
    }
}

mediamesh_mesh::named! {
    pub enum VideoStatus {
        Active = "ACTIVE",
        RemovedByPolicy = "REMOVED_BY_POLICY",
        Deleted = "DELETED",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoRow {
    pub video_id: String,
    pub client_id: String,
    pub channel_id: String,
    pub title: String,
    pub view_count: i64,
    pub status: VideoStatus,
    pub version: Versioned,
    /// When it was uploaded (RFC 3339; empty until its upload is heard of): newest first.
    pub upload_time: String,
}

/// A video's content as an upload or an edit carries it.
pub struct VideoContent<'a> {
    pub client_id: &'a str,
    pub channel_id: &'a str,
    pub title: &'a str,
    pub view_count: i64,
}

impl VideoRow {
    pub fn placeholder(video_id: &str, client_id: &str, channel_id: &str) -> VideoRow {
        VideoRow {
            video_id: video_id.to_owned(),
            client_id: client_id.to_owned(),
            channel_id: channel_id.to_owned(),
            title: String::new(),
            view_count: 0,
            status: VideoStatus::Active,
            version: Versioned::NONE,
            upload_time: String::new(),
        }
    }

    /// Its upload heard of (in any order with its edits): when it was uploaded.
    pub fn uploaded_at(&mut self, time: &str) -> bool {
        if !self.upload_time.is_empty() || time.is_empty() {
            return false;
        }
        self.upload_time = time.to_owned();
        true
    }

    /// Uploaded or edited at `version`: the content applies when newer. A video gone stays
    /// gone (its content still follows, so a late upload fills in its title).
    pub fn content(&mut self, c: &VideoContent, version: i64) -> bool {
        if !self.version.newer(version) {
            return false;
        }
        self.client_id = c.client_id.to_owned();
        self.channel_id = c.channel_id.to_owned();
        self.title = c.title.to_owned();
        self.view_count = c.view_count;
        true
    }

    /// Taken down: out of the totals, shown with its status; a deleted video stays deleted.
    pub fn remove(&mut self) -> bool {
        if self.status != VideoStatus::Active {
            return false;
        }
        self.status = VideoStatus::RemovedByPolicy;
        true
    }

    pub fn delete(&mut self) -> bool {
        !std::mem::replace(&mut self.status, VideoStatus::Deleted).eq(&VideoStatus::Deleted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefundStatus {
    Requested,
    Decided,
}

/// A refund's status after `incoming` (a decision wins over the request, whatever the
/// order; the first decision stands).
pub fn refund_applies(current: Option<RefundStatus>, incoming: RefundStatus) -> bool {
    match current {
        None => true,
        Some(current) => incoming > current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(title: &str, views: i64) -> VideoContent<'_> {
        VideoContent {
            client_id: "c1",
            channel_id: "ch1",
            title,
            view_count: views,
        }
    }

    #[test]
    fn a_channel_name_and_its_totals_follow_their_own_versions() {
        let mut ch = ChannelRow::placeholder("ch1", "c1");
        assert!(ch.totals(10, 1, 3), "totals before the creation");
        assert!(ch.name("two", 2));
        assert!(!ch.name("one", 1), "its creation, delivered late");
        assert!(!ch.totals(5, 1, 2), "stale totals");
        assert_eq!((ch.channel_name.as_str(), ch.total_view), ("two", 10));
        assert!(ch.delete());
        assert!(!ch.delete());
    }

    #[test]
    fn a_video_shows_its_newest_content_and_gone_stays_gone() {
        let mut v = VideoRow::placeholder("v1", "c1", "ch1");
        assert!(v.content(&content("b", 100), 2));
        assert!(
            !v.content(&content("a", 0), 1),
            "its upload, delivered late"
        );
        assert!(v.remove());
        assert!(!v.remove());
        assert_eq!(v.status, VideoStatus::RemovedByPolicy);
        assert!(v.content(&content("c", 100), 3));
        assert_eq!(
            v.status,
            VideoStatus::RemovedByPolicy,
            "an edit revives nothing"
        );
        assert!(v.uploaded_at("2026-01-01T00:00:00Z"));
        assert!(!v.uploaded_at("2026-01-02T00:00:00Z"), "uploaded once");
        assert!(v.delete());
        assert!(!v.remove() && !v.delete());
        assert_eq!(VideoStatus::parse("DELETED"), Some(VideoStatus::Deleted));
    }

    #[test]
    fn a_refund_decision_wins_over_its_request() {
        assert!(refund_applies(None, RefundStatus::Requested));
        assert!(refund_applies(
            Some(RefundStatus::Requested),
            RefundStatus::Decided
        ));
        assert!(!refund_applies(
            Some(RefundStatus::Decided),
            RefundStatus::Requested
        ));
        assert!(!refund_applies(
            Some(RefundStatus::Decided),
            RefundStatus::Decided
        ));
    }
}
