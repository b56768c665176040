//! Who may do what with comments when auth is on: a comment is written as the token's
//! subject (its client id) and edited or deleted by its writer or an operator (`admin`);
//! anyone with a token reads comments.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for};

/// The client a new comment is written as.
pub fn writer(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

pub fn may_change(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this comment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_change_their_own_comments() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(writer(&kim, ""), Ok("kim".into()));
        assert!(writer(&kim, "lee").is_err());
        assert!(may_change(&kim, "kim").is_ok());
        assert!(may_change(&kim, "lee").is_err());
        assert!(may_change(&Caller::new("ops", &["admin"]), "lee").is_ok());
    }
}
