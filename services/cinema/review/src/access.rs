//! Who may do what with reviews when auth is on: anyone with a token writes one; a review
//! records no author (the contract has none), so only operators (`admin`) delete them.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied};

pub fn may_delete(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE], "deleting a review")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_operators_delete_reviews() {
        assert!(may_delete(&Caller::new("ops", &["admin"])).is_ok());
        assert!(may_delete(&Caller::new("alice", &[])).is_err());
        assert!(may_delete(&Caller::new("cgv", &["theater"])).is_err());
    }
}
