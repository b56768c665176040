//! Who may read a payment when auth is on: the customer it charged, or an operator. `Pay`
//! is internal (the mesh's own role, checked by the mesh before it gets here).
use mediamesh_mesh::serving::auth::{Caller, Denied};

pub fn may_read(caller: &Caller, customer_id: &str) -> Result<(), Denied> {
    caller.acting_for(customer_id, "this payment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_is_read_by_its_customer() {
        assert!(may_read(&Caller::new("alice", &[]), "alice").is_ok());
        assert!(may_read(&Caller::new("alice", &[]), "bob").is_err());
        assert!(may_read(&Caller::new("ops", &["admin"]), "bob").is_ok());
    }
}
