//! Who may do what with client accounts and refund requests when auth is on: a client id
//! is the customer's own (registered as the token's subject), changed or deleted by them or
//! an operator (`admin`); refunds are requested, read and listed by their client.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for, own_filter};

/// The client id a registration or a refund request is for.
pub fn client_for(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

/// Changing, deleting or reading what client `owner` owns.
pub fn may_use(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this client's account")
}

/// The client filter of the refund list.
pub fn refund_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_act_on_their_own_account_and_refunds() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(client_for(&kim, ""), Ok("kim".into()));
        assert!(client_for(&kim, "lee").is_err());
        assert!(may_use(&kim, "kim").is_ok());
        assert!(may_use(&kim, "lee").is_err());
        assert_eq!(refund_filter(&kim, ""), Ok("kim".into()));
        assert!(refund_filter(&kim, "lee").is_err());
        assert!(may_use(&Caller::new("ops", &["admin"]), "lee").is_ok());
    }
}
