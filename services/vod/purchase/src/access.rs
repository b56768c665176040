//! Who may do what with purchases when auth is on (the gRPC adapter applies these; without
//! auth there is no caller and nothing is checked). A purchase is its customer's: made for
//! the token's subject, read, changed and cancelled by them; operators (`admin`) and the
//! mesh itself act for anyone.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for, own_filter};

/// The customer a new purchase is for: the caller, whatever the body says, unless trusted.
pub fn buyer(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

/// Reading, changing or cancelling a purchase of `owner`.
pub fn may_use(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this purchase")
}

/// The customer filter of a list: a customer lists their own purchases (no filter means
/// theirs); operators list anyone's, or all.
pub fn list_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_buy_read_and_list_only_their_own() {
        let alice = Caller::new("alice", &[]);
        assert_eq!(buyer(&alice, ""), Ok("alice".into()));
        assert!(buyer(&alice, "bob").is_err());
        assert!(may_use(&alice, "alice").is_ok());
        assert!(may_use(&alice, "bob").is_err());
        assert!(
            may_use(&alice, "").is_err(),
            "an anonymous purchase is no one's"
        );
        assert_eq!(list_filter(&alice, ""), Ok("alice".into()));
        assert!(list_filter(&alice, "bob").is_err());
    }

    #[test]
    fn operators_act_for_anyone() {
        let ops = Caller::new("ops", &["admin"]);
        assert_eq!(buyer(&ops, "bob"), Ok("bob".into()));
        assert!(may_use(&ops, "bob").is_ok());
        assert_eq!(list_filter(&ops, ""), Ok(String::new()));
    }
}
