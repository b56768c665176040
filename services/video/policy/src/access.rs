//! Who may change policies (refund rate, banned words, takedowns) when auth is on:
//! operators (`admin`) only; anyone with a token reads them.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied};

pub fn may_manage(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE], "managing policies")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_operators_manage_policies() {
        assert!(may_manage(&Caller::new("ops", &["admin"])).is_ok());
        assert!(may_manage(&Caller::new("kim", &[])).is_err());
        assert!(may_manage(&Caller::new("cgv", &["theater"])).is_err());
    }
}
