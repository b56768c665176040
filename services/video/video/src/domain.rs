//! A video and its rules, and video's replica of the channels. Field bounds are checked at
//! the edge (`mediamesh_mesh::input`); the rules here: a video lives in a live channel of its
//! client, its view count stays within what the contract shows (0..=i32::MAX), every change
//! moves its version on (each event carries it), a video taken down by policy takes no more
//! edits or views and counts nowhere, and a deleted video is deleted for good (its id
//! retired). The replica follows channel events in channel version order; a deletion is for
//! good, and a channel it has not heard of must be asked of channel.

/// The most views a video shows (the REST contract's int32).
pub const MAX_VIEWS: i64 = i32::MAX as i64;

/// A view count within `0..=MAX_VIEWS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Views(i64);

impl Views {
    pub fn new(views: i64) -> Result<Views, VideoError> {
        if !(0..=MAX_VIEWS).contains(&views) {
            return Err(VideoError::Views);
        }
        Ok(Views(views))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

mediamesh_mesh::named! {
    /// Where a video stands.
    pub enum Status {
        Active = "ACTIVE",
        RemovedByPolicy = "REMOVED_BY_POLICY",
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VideoError {
    #[error("must be between 0 and 2147483647")]
    Views,
    #[error("channel {0:?} not found")]
    ChannelNotFound(String),
    #[error("the channel belongs to client {owner:?}")]
    NotTheOwner { owner: String },
    #[error("the video was removed by policy; it takes no more edits or views")]
    Removed,
}

impl VideoError {
    pub fn field(&self) -> &'static str {
        match self {
            VideoError::Views => "view_count",
            VideoError::ChannelNotFound(_) => "channel_id",
            VideoError::NotTheOwner { .. } => "client_id",
            VideoError::Removed => "status",
        }
    }
}

/// A live channel a video may go into: its id and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveChannel {
    pub channel_id: String,
    pub client_id: String,
}

/// A video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    id: String,
    client_id: String,
    channel_id: String,
    title: String,
    views: Views,
    status: Status,
    version: i64,
}

/// What every video event carries (`VideoUploaded`, `VideoEdited`, `VideoViewed`, `VideoDeleted`,
/// `VideoRemovedByPolicy`): the video as it now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub video_id: String,
    pub client_id: String,
    pub channel_id: String,
    pub title: String,
    pub view_count: i64,
    pub version: i64,
    /// Set by an edit that moved the video out of this channel.
    pub previous_channel_id: String,
}

/// The owner a request names must be the channel's; an empty one is the channel's.
fn owner(claimed: &str, channel: &LiveChannel) -> Result<(), VideoError> {
    if claimed.is_empty() || claimed == channel.client_id {
        Ok(())
    } else {
        Err(VideoError::NotTheOwner {
            owner: channel.client_id.clone(),
        })
    }
}

impl Video {
    /// Uploads a video into a live channel, as `client_id` (empty: the channel's owner).
    pub fn upload(
        id: String,
        client_id: &str,
        channel: &LiveChannel,
        title: String,
        views: Views,
    ) -> Result<(Video, Changed), VideoError> {
        owner(client_id, channel)?;
        let video = Video {
            id,
            client_id: channel.client_id.clone(),
            channel_id: channel.channel_id.clone(),
            title,
            views,
            status: Status::Active,
            version: 1,
        };
        let uploaded = video.changed(String::new());
        Ok((video, uploaded))
    }

    /// Whether `asked` (an upload under this video's id) is this video's upload again: the
    /// same owner, channel and title, and the same count unless views have moved it since.
    pub fn same_request(&self, asked: &Video) -> bool {
        self.client_id == asked.client_id
            && self.channel_id == asked.channel_id
            && self.title == asked.title
            && (self.views == asked.views || self.version > 1)
    }

    pub fn restore(
        id: String,
        client_id: String,
        channel_id: String,
        title: String,
        views: Views,
        status: Status,
        version: i64,
    ) -> Video {
        Video {
            id,
            client_id,
            channel_id,
            title,
            views,
            status,
            version,
        }
    }

    /// Changes what is given, one version on: the title, the channel (another live channel
    /// of the same client), the absolute view count.
    pub fn edit(
        &mut self,
        title: Option<String>,
        channel: Option<&LiveChannel>,
        views: Option<Views>,
    ) -> Result<Changed, VideoError> {
        if self.status == Status::RemovedByPolicy {
            return Err(VideoError::Removed);
        }
        let mut previous = String::new();
        if let Some(channel) = channel {
            owner(&self.client_id, channel)?;
            if channel.channel_id != self.channel_id {
                previous = std::mem::replace(&mut self.channel_id, channel.channel_id.clone());
            }
        }
        if let Some(title) = title {
            self.title = title;
        }
        if let Some(views) = views {
            self.views = views;
        }
        self.version += 1;
        Ok(self.changed(previous))
    }

    /// One more view (at most MAX_VIEWS), one version on.
    pub fn view(&mut self) -> Result<Changed, VideoError> {
        let views = Views::new(self.views.get() + 1)?;
        self.edit(None, None, Some(views))
    }

    /// The video deleted, one version on (the store retires its id).
    pub fn delete(&mut self) -> Changed {
        self.version += 1;
        self.changed(String::new())
    }

    /// Taken down by policy, one version on; None if it already was.
    pub fn take_down(&mut self) -> Option<Changed> {
        if self.status == Status::RemovedByPolicy {
            return None;
        }
        self.status = Status::RemovedByPolicy;
        self.version += 1;
        Some(self.changed(String::new()))
    }

    fn changed(&self, previous_channel_id: String) -> Changed {
        Changed {
            video_id: self.id.clone(),
            client_id: self.client_id.clone(),
            channel_id: self.channel_id.clone(),
            title: self.title.clone(),
            view_count: self.views.get(),
            version: self.version,
            previous_channel_id,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn views(&self) -> Views {
        self.views
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

/// A channel as video's replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaChannel {
    channel_id: String,
    client_id: String,
    version: i64,
    deleted: bool,
}

/// Whether a video may go into a channel, by what the replica knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelCheck {
    /// The replica knows the channel is live.
    Live(LiveChannel),
    /// The replica has not heard of it (created a moment ago?): ask channel.
    Ask,
}

impl ReplicaChannel {
    /// A channel not heard of yet (a stand-in below every version).
    pub fn unheard(channel_id: &str) -> ReplicaChannel {
        ReplicaChannel {
            channel_id: channel_id.to_owned(),
            client_id: String::new(),
            version: -1,
            deleted: false,
        }
    }

    /// A channel channel confirmed when asked: version 0, so every event about it applies.
    pub fn learned(channel_id: &str, client_id: &str) -> ReplicaChannel {
        ReplicaChannel {
            channel_id: channel_id.to_owned(),
            client_id: client_id.to_owned(),
            version: 0,
            deleted: false,
        }
    }

    pub fn restore(
        channel_id: String,
        client_id: String,
        version: i64,
        deleted: bool,
    ) -> ReplicaChannel {
        ReplicaChannel {
            channel_id,
            client_id,
            version,
            deleted,
        }
    }

    /// Whether the replica has heard of the channel at all.
    pub fn is_heard(&self) -> bool {
        self.version >= 0 || self.deleted
    }

    /// The channel created or renamed at `version`; false for a stale or repeated event. A
    /// deleted channel stays deleted.
    pub fn change(&mut self, client_id: &str, version: i64) -> bool {
        if version <= self.version || self.deleted {
            return false;
        }
        self.client_id = client_id.to_owned();
        self.version = version;
        true
    }

    /// The channel deleted, for good; false if it already was.
    pub fn delete(&mut self, client_id: &str, version: i64) -> bool {
        if self.deleted {
            return false;
        }
        if self.client_id.is_empty() {
            self.client_id = client_id.to_owned();
        }
        self.deleted = true;
        self.version = self.version.max(version);
        true
    }

    /// Whether a video may go into this channel (`None`: the replica has not heard of it).
    pub fn check(
        replica: Option<&ReplicaChannel>,
        channel_id: &str,
    ) -> Result<ChannelCheck, VideoError> {
        match replica {
            Some(c) if c.deleted => Err(VideoError::ChannelNotFound(channel_id.to_owned())),
            Some(c) if c.is_heard() => Ok(ChannelCheck::Live(LiveChannel {
                channel_id: c.channel_id.clone(),
                client_id: c.client_id.clone(),
            })),
            _ => Ok(ChannelCheck::Ask),
        }
    }

    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(id: &str, owner: &str) -> LiveChannel {
        LiveChannel {
            channel_id: id.into(),
            client_id: owner.into(),
        }
    }

    fn video() -> Video {
        let views = Views::new(0).unwrap();
        Video::upload("v".into(), "1", &channel("a", "1"), "".into(), views)
            .unwrap()
            .0
    }

    #[test]
    fn an_upload_takes_the_channels_owner_and_refuses_another() {
        let views = Views::new(0).unwrap();
        let (v, up) = Video::upload("v".into(), "", &channel("a", "1"), "t".into(), views).unwrap();
        assert_eq!((v.client_id(), up.version), ("1", 1));
        let other = Video::upload("v".into(), "2", &channel("a", "1"), "t".into(), views);
        assert_eq!(
            other.unwrap_err(),
            VideoError::NotTheOwner { owner: "1".into() }
        );
    }

    #[test]
    fn views_stay_within_the_contract() {
        assert_eq!(Views::new(-1), Err(VideoError::Views));
        assert_eq!(Views::new(MAX_VIEWS + 1), Err(VideoError::Views));
        let mut v = video();
        v.edit(None, None, Some(Views::new(MAX_VIEWS).unwrap()))
            .unwrap();
        assert_eq!(v.view(), Err(VideoError::Views));
    }

    #[test]
    fn an_edit_sets_the_absolute_count_and_a_move_names_the_old_channel() {
        let mut v = video();
        let edited = v.edit(None, None, Some(Views::new(3).unwrap())).unwrap();
        assert_eq!((edited.view_count, edited.version), (3, 2));
        assert_eq!(v.view().unwrap().view_count, 4);
        let moved = v.edit(None, Some(&channel("b", "1")), None).unwrap();
        assert_eq!(
            (
                moved.channel_id.as_str(),
                moved.previous_channel_id.as_str()
            ),
            ("b", "a")
        );
        assert_eq!(
            v.edit(None, Some(&channel("c", "2")), None),
            Err(VideoError::NotTheOwner { owner: "2".into() })
        );
    }

    #[test]
    fn a_video_taken_down_takes_no_more_edits_and_is_taken_down_once() {
        let mut v = video();
        assert_eq!(v.take_down().unwrap().version, 2);
        assert_eq!(v.take_down(), None);
        assert_eq!(v.view(), Err(VideoError::Removed));
        assert_eq!(v.status(), Status::RemovedByPolicy);
        assert_eq!(v.delete().version, 3, "its owner may still delete it");
    }

    #[test]
    fn the_replica_follows_channel_versions_and_deletion_is_for_good() {
        let mut c = ReplicaChannel::unheard("a");
        assert_eq!(ReplicaChannel::check(Some(&c), "a"), Ok(ChannelCheck::Ask));
        assert!(c.change("1", 2));
        assert!(!c.change("1", 1), "stale");
        assert!(matches!(
            ReplicaChannel::check(Some(&c), "a"),
            Ok(ChannelCheck::Live(_))
        ));
        assert!(c.delete("1", 3));
        assert!(!c.change("1", 4), "never revived");
        assert_eq!(
            ReplicaChannel::check(Some(&c), "a"),
            Err(VideoError::ChannelNotFound("a".into()))
        );
        let mut early = ReplicaChannel::unheard("b");
        assert!(early.delete("1", 3));
        assert!(early.is_heard() && early.is_deleted());
    }
}
