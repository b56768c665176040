//! Whose messages a caller sees when auth is on: a customer only their own (the list is
//! narrowed to them, whatever reservation it names); operators (`admin`) and theaters
//! (`theater`) everyone's.
use mediamesh_mesh::serving::auth::Caller;

pub const THEATER_ROLE: &str = "theater";

/// The customer the list is narrowed to; empty for everyone's.
pub fn customer_filter(caller: &Caller) -> String {
    if caller.is_trusted() || caller.has_role(THEATER_ROLE) {
        String::new()
    } else {
        caller.subject.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_see_their_own_messages_staff_all() {
        assert_eq!(customer_filter(&Caller::new("kim", &[])), "kim");
        assert_eq!(customer_filter(&Caller::new("cgv", &["theater"])), "");
        assert_eq!(customer_filter(&Caller::new("ops", &["admin"])), "");
    }
}
