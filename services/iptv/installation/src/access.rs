//! Who may do what with installations when auth is on: an installation is moved (accepted,
//! completed) by its own installer (role `installer`) or an operator (`admin`); it is read
//! by its customer, its installer or an operator; installers list their own.
use mediamesh_mesh::serving::auth::{ADMIN_ROLE, Caller, Denied, own_filter};

pub const INSTALLER_ROLE: &str = "installer";

pub fn may_move(caller: &Caller, installer_id: &str) -> Result<(), Denied> {
    caller.in_role(&[INSTALLER_ROLE, ADMIN_ROLE], "moving an installation")?;
    caller.acting_for(installer_id, "this installation")
}

pub fn may_read(caller: &Caller, installer_id: &str, customer_id: &str) -> Result<(), Denied> {
    if caller.subject == customer_id {
        return Ok(());
    }
    caller.acting_for(installer_id, "this installation")
}

/// The installer filter of a list: installers list their own, operators anyone's.
pub fn list_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    caller.in_role(&[INSTALLER_ROLE, ADMIN_ROLE], "listing installations")?;
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installers_move_their_own_installations() {
        let park = Caller::new("park", &["installer"]);
        assert!(may_move(&park, "park").is_ok());
        assert!(may_move(&park, "choi").is_err());
        assert!(
            may_move(&Caller::new("park", &[]), "park").is_err(),
            "the role is needed"
        );
        assert!(may_move(&Caller::new("ops", &["admin"]), "choi").is_ok());
        assert!(may_read(&Caller::new("kim", &[]), "park", "kim").is_ok());
        assert!(may_read(&Caller::new("lee", &[]), "park", "kim").is_err());
        assert_eq!(list_filter(&park, ""), Ok("park".into()));
        assert!(list_filter(&Caller::new("kim", &[]), "").is_err());
    }
}
