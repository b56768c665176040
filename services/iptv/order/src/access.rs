//! Who may do what with join orders when auth is on: an order is its customer's, placed for
//! the token's subject, read, listed and cancelled by them or an operator (`admin`).
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for, own_filter};

/// The customer a new order is for.
pub fn orderer(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

pub fn may_use(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this order")
}

pub fn list_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_order_read_and_cancel_their_own() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(orderer(&kim, ""), Ok("kim".into()));
        assert!(orderer(&kim, "lee").is_err());
        assert!(may_use(&kim, "lee").is_err());
        assert_eq!(list_filter(&kim, ""), Ok("kim".into()));
        assert!(may_use(&Caller::new("ops", &["admin"]), "lee").is_ok());
    }
}
