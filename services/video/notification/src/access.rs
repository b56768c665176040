//! Whose notifications a caller reads when auth is on: a client their own (no client named
//! means theirs, another's is denied); operators (`admin`) anyone's.
use mediamesh_mesh::serving::auth::{Caller, Denied, own_filter};

pub fn client_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_read_their_own_notifications() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(client_filter(&kim, ""), Ok("kim".into()));
        assert!(client_filter(&kim, "lee").is_err());
        assert_eq!(
            client_filter(&Caller::new("ops", &["admin"]), "lee"),
            Ok("lee".into())
        );
    }
}
