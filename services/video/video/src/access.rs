//! Who may do what with videos when auth is on: a video is uploaded as the token's subject
//! (its client id) and edited or deleted by its client or an operator (`admin`); anyone
//! with a token reads and views videos.
use mediamesh_mesh::serving::auth::{Caller, Denied, customer_for};

/// The client a new video is uploaded as.
pub fn uploader(caller: &Caller, named: &str) -> Result<String, Denied> {
    customer_for(caller, named)
}

pub fn may_change(caller: &Caller, owner: &str) -> Result<(), Denied> {
    caller.acting_for(owner, "this video")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_upload_and_change_their_own_videos() {
        let kim = Caller::new("kim", &[]);
        assert_eq!(uploader(&kim, ""), Ok("kim".into()));
        assert!(uploader(&kim, "lee").is_err());
        assert!(may_change(&kim, "kim").is_ok());
        assert!(may_change(&kim, "lee").is_err());
        assert!(may_change(&Caller::new("ops", &["admin"]), "lee").is_ok());
    }
}
