//! The installation and its rules: the desk's assignment opens it, the installer accepts then
//! completes it, and a cancellation withdraws it unless it is installed already. A
//! cancellation that comes before the assignment withdraws it in advance, so the assignment,
//! arriving later, opens nothing. Each transition checks the current state and returns the
//! event it raises.

mediamesh_mesh::named! {
    pub enum Status {
        Assigned = "ASSIGNED",
        Accepted = "ACCEPTED",
        Completed = "COMPLETED",
        Withdrawn = "WITHDRAWN",
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InstallationError {
    #[error("status must be \"accept\" or \"complete\"")]
    UnknownStatus,
    #[error("the installation must be accepted before it is completed")]
    NotAccepted,
    #[error("the installation is completed already")]
    Completed,
    #[error("the installation was withdrawn (the order is cancelled)")]
    Withdrawn,
}

/// What the installer asks for in a PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Accept,
    Complete,
}

impl Move {
    pub fn parse(s: &str) -> Result<Move, InstallationError> {
        if s.eq_ignore_ascii_case("accept") {
            Ok(Move::Accept)
        } else if s.eq_ignore_ascii_case("complete") {
            Ok(Move::Complete)
        } else {
            Err(InstallationError::UnknownStatus)
        }
    }
}

/// An event an installation raises, with the version it brings the installation to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    Accepted(i64),
    Completed(i64),
    Withdrawn(i64),
}

/// The order an installation is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Work {
    pub installer_id: String,
    pub customer_id: String,
    pub address: String,
    pub product: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    id: String,
    work: Work,
    status: Status,
    version: i64,
}

impl Installation {
    /// Opened by the desk's assignment.
    pub fn assigned(id: String, work: Work) -> Installation {
        Installation {
            id,
            work,
            status: Status::Assigned,
            version: 1,
        }
    }

    /// Withdrawn before any assignment reached it (the order is cancelled early).
    pub fn withdrawn_in_advance(id: String, customer_id: String) -> (Installation, Raised) {
        let work = Work {
            customer_id,
            ..Work::default()
        };
        let installation = Installation {
            id,
            work,
            status: Status::Withdrawn,
            version: 1,
        };
        (installation, Raised::Withdrawn(1))
    }

    pub fn restore(id: String, work: Work, status: Status, version: i64) -> Installation {
        Installation {
            id,
            work,
            status,
            version,
        }
    }

    /// The installer's move; the same move again changes nothing.
    pub fn apply(&mut self, step: Move) -> Result<Option<Raised>, InstallationError> {
        let next = match (step, self.status) {
            (_, Status::Withdrawn) => return Err(InstallationError::Withdrawn),
            (Move::Accept, Status::Assigned) => Status::Accepted,
            (Move::Accept, Status::Accepted) | (Move::Complete, Status::Completed) => {
                return Ok(None);
            }
            (Move::Accept, Status::Completed) => return Err(InstallationError::Completed),
            (Move::Complete, Status::Assigned) => return Err(InstallationError::NotAccepted),
            (Move::Complete, Status::Accepted) => Status::Completed,
        };
        self.status = next;
        self.version += 1;
        Ok(Some(match next {
            Status::Accepted => Raised::Accepted(self.version),
            _ => Raised::Completed(self.version),
        }))
    }

    /// The desk asks whether the order can still be cancelled: withdrawn unless installed.
    /// Asked again, the same answer (nothing more raised).
    pub fn withdraw(&mut self) -> Result<Option<Raised>, InstallationError> {
        match self.status {
            Status::Completed => Err(InstallationError::Completed),
            Status::Withdrawn => Ok(None),
            Status::Assigned | Status::Accepted => {
                self.status = Status::Withdrawn;
                self.version += 1;
                Ok(Some(Raised::Withdrawn(self.version)))
            }
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn work(&self) -> &Work {
        &self.work
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn installation() -> Installation {
        let work = Work {
            installer_id: "i1".into(),
            customer_id: "kim".into(),
            ..Work::default()
        };
        Installation::assigned("o1".into(), work)
    }

    #[test]
    fn accept_then_complete() {
        let mut i = installation();
        assert_eq!(i.apply(Move::Complete), Err(InstallationError::NotAccepted));
        assert_eq!(i.apply(Move::Accept), Ok(Some(Raised::Accepted(2))));
        assert_eq!(i.apply(Move::Accept), Ok(None), "accepted again: no change");
        assert_eq!(i.apply(Move::Complete), Ok(Some(Raised::Completed(3))));
        assert_eq!(i.apply(Move::Complete), Ok(None));
        assert_eq!(i.apply(Move::Accept), Err(InstallationError::Completed));
    }

    #[test]
    fn withdrawn_unless_installed_and_the_answer_stands() {
        let mut i = installation();
        i.apply(Move::Accept).unwrap();
        assert_eq!(i.withdraw(), Ok(Some(Raised::Withdrawn(3))));
        assert_eq!(i.withdraw(), Ok(None));
        assert_eq!(i.apply(Move::Complete), Err(InstallationError::Withdrawn));

        let mut done = installation();
        done.apply(Move::Accept).unwrap();
        done.apply(Move::Complete).unwrap();
        assert_eq!(done.withdraw(), Err(InstallationError::Completed));
        assert_eq!(done.status(), Status::Completed);
    }

    #[test]
    fn only_accept_and_complete_parse() {
        assert_eq!(Move::parse("accept"), Ok(Move::Accept));
        assert_eq!(Move::parse("COMPLETE"), Ok(Move::Complete));
        assert_eq!(
            Move::parse("install"),
            Err(InstallationError::UnknownStatus)
        );
    }
}
