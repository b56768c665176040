//! Who may change the programme when auth is on: operators (`admin`) and theaters
//! (`theater`) create, change and delete movies; anyone with a token reads them.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied};

pub const THEATER_ROLE: &str = "theater";

pub fn may_manage(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE, THEATER_ROLE], "managing movies")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theaters_and_operators_manage_movies() {
        assert!(may_manage(&Caller::new("cgv", &["theater"])).is_ok());
        assert!(may_manage(&Caller::new("ops", &["admin"])).is_ok());
        assert!(may_manage(&Caller::new("alice", &[])).is_err());
        assert!(may_manage(&Caller::new("i", &["installer"])).is_err());
    }
}
