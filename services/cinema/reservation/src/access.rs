//! Who may do what with reservations when auth is on: a reservation is its customer's,
//! made for the token's subject, read and cancelled by them (or an operator); listing a
//! movie's reservations is for its theater or an operator (the list names customers).
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied, customer_for};

pub const THEATER_ROLE: &str = "theater";

/// The customer a new reservation is for.
pub fn holder(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

/// Reading or cancelling a reservation of `owner`.
pub fn may_use(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this reservation")
}

pub fn may_list(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE, THEATER_ROLE], "listing reservations")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_reserve_and_cancel_their_own() {
        let alice = Caller::new("alice", &[]);
        assert_eq!(holder(&alice, ""), Ok("alice".into()));
        assert!(holder(&alice, "bob").is_err());
        assert!(may_use(&alice, "alice").is_ok());
        assert!(may_use(&alice, "bob").is_err());
        assert!(may_list(&alice).is_err());
    }

    #[test]
    fn staff_see_and_operators_act_for_anyone() {
        assert!(may_list(&Caller::new("cgv", &["theater"])).is_ok());
        assert!(may_use(&Caller::new("cgv", &["theater"]), "bob").is_err());
        assert!(may_use(&Caller::new("ops", &["admin"]), "bob").is_ok());
    }
}
