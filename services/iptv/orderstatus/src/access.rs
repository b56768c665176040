//! Whose order statuses a caller sees when auth is on: a customer their own (a list is
//! narrowed to them), an operator (`admin`) anyone's.
use mediamesh_mesh::serving::auth::{Caller, Denied, own_filter};

pub fn may_read(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this order")
}

pub fn list_filter(caller: &Caller, asked: &str) -> Result<String, Denied> {
    own_filter(caller, asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_follow_their_own_orders() {
        let kim = Caller::new("kim", &[]);
        assert!(may_read(&kim, "kim").is_ok());
        assert!(may_read(&kim, "lee").is_err());
        assert_eq!(list_filter(&kim, ""), Ok("kim".into()));
        assert!(list_filter(&kim, "lee").is_err());
    }
}
