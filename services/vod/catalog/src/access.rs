//! Who may change the catalog when auth is on: operators (`admin`) register VODs; anyone
//! with a token browses it.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied};

pub fn may_register(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE], "registering a VOD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_operators_register_vods() {
        assert!(may_register(&Caller::new("ops", &["admin"])).is_ok());
        assert!(may_register(&Caller::new("alice", &[])).is_err());
        assert!(may_register(&Caller::new("t", &["theater"])).is_err());
    }
}
