//! Who may do what with contents when auth is on: a content is its creator's, uploaded
//! under the token's subject (the body may name no other creator) and deleted by them or
//! an operator (`admin`); anyone with a token reads and lists contents.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for};

/// The creator a new content is recorded under.
pub fn creator(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

pub fn may_delete(caller: &Caller, creator: &str) -> Result<(), Denied> {
    caller.acting_for(creator, "this content")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creators_upload_and_delete_their_own() {
        let iu = Caller::new("iu", &[]);
        assert_eq!(creator(&iu, ""), Ok("iu".into()));
        assert_eq!(creator(&iu, "iu"), Ok("iu".into()));
        assert!(creator(&iu, "psy").is_err());
        assert!(may_delete(&iu, "iu").is_ok());
        assert!(may_delete(&iu, "psy").is_err());
        assert!(may_delete(&Caller::new("ops", &["admin"]), "psy").is_ok());
    }
}
