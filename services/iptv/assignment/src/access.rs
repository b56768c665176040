//! Who may do what at the installation desk when auth is on: installers register
//! themselves (role `installer`, under the token's subject); moving an assignment (assign,
//! cancel) is the desk's, role `admin`; installers and the desk read assignments.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied, customer_for};

pub const INSTALLER_ROLE: &str = "installer";

/// The installer id a registration is recorded under.
pub fn registrant(caller: &Caller, named: &str) -> Result<String, Denied> {
    caller.in_role(&[INSTALLER_ROLE, ADMIN_ROLE], "registering an installer")?;
    customer_for(caller, named)
}

pub fn may_move(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE], "moving an assignment")
}

pub fn may_read(caller: &Caller) -> Result<(), Denied> {
    caller.in_role(&[ADMIN_ROLE, INSTALLER_ROLE], "reading assignments")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installers_register_themselves_and_the_desk_moves() {
        let park = Caller::new("park", &["installer"]);
        assert_eq!(registrant(&park, ""), Ok("park".into()));
        assert!(registrant(&park, "choi").is_err());
        assert!(registrant(&Caller::new("kim", &[]), "").is_err());
        assert!(may_move(&park).is_err());
        assert!(may_move(&Caller::new("ops", &["admin"])).is_ok());
        assert!(may_read(&park).is_ok());
        assert!(may_read(&Caller::new("kim", &[])).is_err());
    }
}
