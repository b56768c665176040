//! A client, its channels' shares of its total, and its refund requests. Field bounds are
//! checked at the edge (`mediamesh_mesh::input`); the rules here: a client's total is
//! computed (sent only as 0 on registration, as the seed does, never on a change), every
//! change of a client moves its version on (its channels count at their latest version only:
//! `mediamesh_mesh::events::parts`), and a refund request is decided once.

/// A client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    id: String,
    total_view: i64,
    version: i64,
}

/// What a client's events carry (`ClientRegistered`, `ClientTotalChanged`, `ClientDeleted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub client_id: String,
    pub total_view: i64,
    pub version: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    #[error("is computed from the client's channels; send 0 or leave it out")]
    Computed,
    #[error("must be APPROVED or REJECTED")]
    Decision,
}

impl ClientError {
    pub fn field(&self) -> &'static str {
        match self {
            ClientError::Computed => "total_view",
            ClientError::Decision => "status",
        }
    }
}

/// A computed total a client sent: accepted on registration only as 0, on a change never.
pub fn computed(sent: Option<i32>, creating: bool) -> Result<(), ClientError> {
    match sent {
        None => Ok(()),
        Some(0) if creating => Ok(()),
        Some(_) => Err(ClientError::Computed),
    }
}

impl Client {
    /// Registers a client; its channels may have been heard of first (`total_view`).
    pub fn register(id: String, total_view: i64) -> (Client, Changed) {
        let client = Client {
            id,
            total_view,
            version: 1,
        };
        let changed = client.changed();
        (client, changed)
    }

    pub fn restore(id: String, total_view: i64, version: i64) -> Client {
        Client {
            id,
            total_view,
            version,
        }
    }

    /// Its channels now add up to `total_view`; what to publish if that moved it.
    pub fn retotal(&mut self, total_view: i64) -> Option<Changed> {
        if total_view == self.total_view {
            return None;
        }
        self.total_view = total_view;
        self.version += 1;
        Some(self.changed())
    }

    /// The client deleted, one version on (the store retires its id).
    pub fn delete(&mut self) -> Changed {
        self.version += 1;
        self.changed()
    }

    fn changed(&self) -> Changed {
        Changed {
            client_id: self.id.clone(),
            total_view: self.total_view,
            version: self.version,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn total_view(&self) -> i64 {
        self.total_view
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

mediamesh_mesh::named! {
    /// Where a refund request stands.
    pub enum RefundStatus {
        Requested = "REQUESTED",
        Approved = "APPROVED",
        Rejected = "REJECTED",
    }
}

/// A client's refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    id: String,
    client_id: String,
    status: RefundStatus,
    total_view: i64,
    refund_policy: i64,
}

/// What a new request publishes (`RefundRequested`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub refund_request_id: String,
    pub client_id: String,
    pub total_view: i64,
}

impl Refund {
    /// A client asks for a refund with `total_view` views to its name.
    pub fn request(id: String, client: &Client) -> (Refund, Requested) {
        let refund = Refund {
            id,
            client_id: client.id().to_owned(),
            status: RefundStatus::Requested,
            total_view: client.total_view(),
            refund_policy: 0,
        };
        let requested = Requested {
            refund_request_id: refund.id.clone(),
            client_id: refund.client_id.clone(),
            total_view: refund.total_view,
        };
        (refund, requested)
    }

    /// Whether `asked` (a request under this one's id) is this request again: for the same
    /// client (the totals it carries are the client's, not the caller's).
    pub fn same_request(&self, asked: &Refund) -> bool {
        self.client_id == asked.client_id
    }

    pub fn restore(
        id: String,
        client_id: String,
        status: RefundStatus,
        total_view: i64,
        refund_policy: i64,
    ) -> Refund {
        Refund {
            id,
            client_id,
            status,
            total_view,
            refund_policy,
        }
    }

    /// Policy's decision; false if the request was decided already (a decision counts once).
    pub fn decide(
        &mut self,
        status: &str,
        total_view: i64,
        refund_policy: i64,
    ) -> Result<bool, ClientError> {
        let decided = match RefundStatus::parse(status) {
            Some(s @ (RefundStatus::Approved | RefundStatus::Rejected)) => s,
            _ => return Err(ClientError::Decision),
        };
        if self.status != RefundStatus::Requested {
            return Ok(false);
        }
        self.status = decided;
        self.total_view = total_view;
        self.refund_policy = refund_policy;
        Ok(true)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    pub fn status(&self) -> RefundStatus {
        self.status
    }
    pub fn total_view(&self) -> i64 {
        self.total_view
    }
    pub fn refund_policy(&self) -> i64 {
        self.refund_policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_computed_so_only_zero_is_accepted_on_registration() {
        assert_eq!(computed(Some(0), true), Ok(()));
        assert_eq!(computed(None, false), Ok(()));
        assert_eq!(computed(Some(3), true), Err(ClientError::Computed));
        assert_eq!(computed(Some(0), false), Err(ClientError::Computed));
    }

    #[test]
    fn a_moved_total_moves_the_version_once() {
        let (mut c, registered) = Client::register("1".into(), 0);
        assert_eq!(registered.version, 1);
        assert_eq!(c.retotal(0), None);
        assert_eq!(c.retotal(5).unwrap().version, 2);
        assert_eq!(c.delete().version, 3);
    }

    #[test]
    fn a_refund_is_decided_once() {
        let (client, _) = Client::register("1".into(), 7);
        let (mut r, requested) = Refund::request("r".into(), &client);
        assert_eq!(
            (requested.total_view, r.status()),
            (7, RefundStatus::Requested)
        );
        assert_eq!(r.decide("MAYBE", 7, 5), Err(ClientError::Decision));
        assert_eq!(r.decide("APPROVED", 7, 5), Ok(true));
        assert_eq!(r.decide("REJECTED", 7, 50), Ok(false));
        assert_eq!((r.status(), r.refund_policy()), (RefundStatus::Approved, 5));
    }
}
