//! Who may do what with channels when auth is on: a channel is its client's (the client id
//! is the customer), opened for the token's subject and renamed or deleted by them or an
//! operator (`admin`); anyone with a token reads channels.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for};

/// The client a new channel is opened for.
pub fn opener(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

pub fn may_change(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this channel")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_open_and_change_their_own_channels() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(opener(&kim, ""), Ok("kim".into()));
        assert!(opener(&kim, "lee").is_err());
        assert!(may_change(&kim, "kim").is_ok());
        assert!(may_change(&kim, "lee").is_err());
        assert!(may_change(&Caller::new("ops", &["admin"]), "lee").is_ok());
    }
}
