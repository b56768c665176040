//! Whose "my page" a caller may list when auth is on: a creator lists their own (no filter
//! means theirs); operators (`admin`) anyone's, or all.
use mediamesh_mesh::serving::auth::{Caller, Denied, own_filter};

pub fn creator_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creators_list_their_own_page() {
        let iu = Caller::new("iu", &[]);
        assert_eq!(creator_filter(&iu, ""), Ok("iu".into()));
        assert_eq!(creator_filter(&iu, "iu"), Ok("iu".into()));
        assert!(creator_filter(&iu, "psy").is_err());
        let ops = Caller::new("ops", &["admin"]);
        assert_eq!(creator_filter(&ops, ""), Ok(String::new()));
    }
}
