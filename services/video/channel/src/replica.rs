//! Channel's replica of the clients, fed by client events: a channel is opened only for a
//! live client. A client channel has not heard of is asked about (never a false 404: it may
//! have registered a moment ago); a deleted client stays deleted, whatever arrives after.
//! Client ids are never reused, so registration and deletion need no version order.

/// What the replica knows of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaClient {
    client_id: String,
    heard: bool,
    deleted: bool,
}

/// Whether a channel may be opened for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCheck {
    Live,
    /// Not heard of: ask client.
    Ask,
}

/// The client a channel names is not (or no more) there.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("client_id: client {0:?} not found")]
pub struct ClientNotFound(pub String);

impl ReplicaClient {
    pub fn restore(client_id: String, heard: bool, deleted: bool) -> ReplicaClient {
        ReplicaClient {
            client_id,
            heard,
            deleted,
        }
    }

    /// Registered (by its event, or by client's answer); false if nothing changed.
    pub fn register(&mut self) -> bool {
        !std::mem::replace(&mut self.heard, true)
    }

    /// Deleted for good; false if it already was.
    pub fn delete(&mut self) -> bool {
        self.heard = true;
        !std::mem::replace(&mut self.deleted, true)
    }

    /// Whether a channel may be opened for this client (`None`: not heard of).
    pub fn check(
        replica: Option<&ReplicaClient>,
        client_id: &str,
    ) -> Result<ClientCheck, ClientNotFound> {
        match replica {
            Some(c) if c.deleted => Err(ClientNotFound(client_id.to_owned())),
            Some(c) if c.heard => Ok(ClientCheck::Live),
            _ => Ok(ClientCheck::Ask),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn is_heard(&self) -> bool {
        self.heard
    }
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_not_heard_of_is_asked_and_a_deleted_one_is_gone_for_good() {
        let mut c = ReplicaClient::restore("1".into(), false, false);
        assert_eq!(ReplicaClient::check(None, "1"), Ok(ClientCheck::Ask));
        assert_eq!(ReplicaClient::check(Some(&c), "1"), Ok(ClientCheck::Ask));
        assert!(c.register());
        assert!(!c.register(), "registered once");
        assert_eq!(ReplicaClient::check(Some(&c), "1"), Ok(ClientCheck::Live));
        assert!(c.delete());
        assert!(!c.delete(), "deleted once");
        assert!(!c.register(), "a late registration revives nothing");
        assert_eq!(
            ReplicaClient::check(Some(&c), "1"),
            Err(ClientNotFound("1".into()))
        );
        let mut early = ReplicaClient::restore("2".into(), false, false);
        assert!(early.delete(), "a deletion heard before the registration");
        early.register();
        assert!(ReplicaClient::check(Some(&early), "2").is_err());
    }
}
