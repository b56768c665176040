//! A channel and its rules, and channel's view of each video. Field bounds are checked at the
//! edge (`mediamesh_mesh::input`); the rules here: a channel has a name and an owner, its
//! totals are computed (a client may only send them as 0, as the seed does), every change
//! moves its version on (each event carries it), and a deleted channel is deleted for good.
//! Its videos count at their latest version only (`mediamesh_mesh::events::parts`).

/// A channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    id: String,
    name: String,
    client_id: String,
    total_view: i64,
    video_count: i64,
    version: i64,
}

/// What a creation or a rename publishes (`ChannelCreated`, `ChannelRenamed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub channel_id: String,
    pub channel_name: String,
    pub client_id: String,
    pub version: i64,
}

/// What a deletion publishes (`ChannelDeleted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub channel_id: String,
    pub client_id: String,
    pub version: i64,
}

/// What moved totals publish (`ChannelTotalChanged`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub channel_id: String,
    pub client_id: String,
    pub total_view: i64,
    pub video_count: i64,
    pub version: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChannelError {
    #[error("is computed from the channel's videos; send 0 or leave it out")]
    Computed(&'static str),
    #[error("is required")]
    Nameless,
}

impl ChannelError {
    pub fn field(&self) -> &'static str {
        match self {
            ChannelError::Computed(field) => field,
            ChannelError::Nameless => "channel_name",
        }
    }
}

/// A computed count a client sent: accepted on creation only as 0, on a change never.
pub fn computed(
    field: &'static str,
    sent: Option<i32>,
    creating: bool,
) -> Result<(), ChannelError> {
    match sent {
        None => Ok(()),
        Some(0) if creating => Ok(()),
        Some(_) => Err(ChannelError::Computed(field)),
    }
}

impl Channel {
    pub fn open(
        id: String,
        name: String,
        client_id: String,
    ) -> Result<(Channel, Named), ChannelError> {
        if name.is_empty() {
            return Err(ChannelError::Nameless);
        }
        let channel = Channel {
            id,
            name,
            client_id,
            total_view: 0,
            video_count: 0,
            version: 1,
        };
        let named = channel.named();
        Ok((channel, named))
    }

    /// Whether `asked` (an opening under this channel's id) is this channel's opening again:
    /// the same name and owner (totals are computed, never asked).
    pub fn same_request(&self, asked: &Channel) -> bool {
        self.name == asked.name && self.client_id == asked.client_id
    }

    pub fn restore(
        id: String,
        name: String,
        client_id: String,
        total_view: i64,
        video_count: i64,
        version: i64,
    ) -> Channel {
        Channel {
            id,
            name,
            client_id,
            total_view,
            video_count,
            version,
        }
    }

    pub fn rename(&mut self, name: String) -> Result<Named, ChannelError> {
        if name.is_empty() {
            return Err(ChannelError::Nameless);
        }
        self.name = name;
        self.version += 1;
        Ok(self.named())
    }

    /// The channel deleted, one version on (the store retires its id).
    pub fn delete(&mut self) -> Deleted {
        self.version += 1;
        Deleted {
            channel_id: self.id.clone(),
            client_id: self.client_id.clone(),
            version: self.version,
        }
    }

    /// Its live videos now add up to `total_view` views over `video_count` videos; what to
    /// publish if that moved anything.
    pub fn recount(&mut self, total_view: i64, video_count: i64) -> Option<Totals> {
        if (total_view, video_count) == (self.total_view, self.video_count) {
            return None;
        }
        (self.total_view, self.video_count) = (total_view, video_count);
        self.version += 1;
        Some(Totals {
            channel_id: self.id.clone(),
            client_id: self.client_id.clone(),
            total_view,
            video_count,
            version: self.version,
        })
    }

    fn named(&self) -> Named {
        Named {
            channel_id: self.id.clone(),
            channel_name: self.name.clone(),
            client_id: self.client_id.clone(),
            version: self.version,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn total_view(&self) -> i64 {
        self.total_view
    }
    pub fn video_count(&self) -> i64 {
        self.video_count
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_computed_so_only_zero_is_accepted_on_creation() {
        assert_eq!(computed("total_view", None, true), Ok(()));
        assert_eq!(computed("total_view", Some(0), true), Ok(()));
        assert_eq!(
            computed("total_view", Some(5), true),
            Err(ChannelError::Computed("total_view"))
        );
        assert_eq!(
            computed("video_count", Some(0), false),
            Err(ChannelError::Computed("video_count"))
        );
    }

    #[test]
    fn a_channel_needs_a_name_and_every_change_moves_its_version() {
        assert_eq!(
            Channel::open("1".into(), "".into(), "c".into()).unwrap_err(),
            ChannelError::Nameless
        );
        let (mut ch, created) = Channel::open("1".into(), "a".into(), "c".into()).unwrap();
        assert_eq!(created.version, 1);
        assert_eq!(ch.rename("b".into()).unwrap().version, 2);
        assert_eq!(ch.recount(0, 0), None, "nothing moved, nothing raised");
        let totals = ch.recount(7, 2).unwrap();
        assert_eq!(
            (totals.total_view, totals.video_count, totals.version),
            (7, 2, 3)
        );
        assert_eq!(ch.delete().version, 4);
    }
}
