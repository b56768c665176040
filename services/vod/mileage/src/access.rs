//! Who may read a mileage account when auth is on: its customer, or an operator.
use mediamesh_mesh::serving::auth::{Caller, Denied};

pub fn may_read(caller: &Caller, customer_id: &str) -> Result<(), Denied> {
    caller.acting_for(customer_id, "this mileage account")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mileage_is_read_by_its_customer() {
        assert!(may_read(&Caller::new("alice", &[]), "alice").is_ok());
        assert!(may_read(&Caller::new("alice", &[]), "bob").is_err());
        assert!(may_read(&Caller::new("ops", &["admin"]), "bob").is_ok());
    }
}
