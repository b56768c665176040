//! The desk's rules. Every join order waits at the desk until an installer of its region is
//! assigned; once the installation is complete the desk completes the subscription. A
//! customer's cancellation is recorded as requested and answered once, by what the
//! installation says: withdrawn (CANCELLED) or installed already (CANCEL_REJECTED). Each
//! transition checks the current state and returns the event it raises.

mediamesh_mesh::named! {
    pub enum Status {
        Waiting = "WAITING",
        Assigned = "ASSIGNED",
        Installed = "INSTALLED",
        Joined = "JOINED",
        Cancelled = "CANCELLED",
    }
}

mediamesh_mesh::named! {
    pub enum Cancel {
        None = "",
        Requested = "CANCEL_REQUESTED",
        Cancelled = "CANCELLED",
        Rejected = "CANCEL_REJECTED",
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeskError {
    #[error("installer_id: the installer works in {installer:?}, the order is in {order:?}")]
    OtherRegion { installer: String, order: String },
    #[error("installer_id: another installer is assigned already")]
    AlreadyAssigned,
    #[error("the order's cancellation is being decided")]
    CancelPending,
    #[error("the order is cancelled")]
    Cancelled,
    #[error("the installation is not complete yet")]
    NotInstalled,
    #[error("status must be \"complete\"")]
    UnknownStatus,
}

/// An installer on the desk's roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installer {
    pub installer_id: String,
    pub name: String,
    pub region: String,
}

/// The join order as the desk knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Order {
    pub customer_id: String,
    pub address: String,
    pub region: String,
    pub product: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    id: String,
    order: Order,
    installer_id: String,
    status: Status,
    cancel: Cancel,
    cancel_time: String,
    version: i64,
}

/// An event the desk raises, with the version it brings the assignment to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    Assigned(i64),
    Completed(i64),
    CancelAccepted(i64),
    CancelRejected(i64),
}

impl Assignment {
    /// A join order that reached the desk.
    pub fn waiting(id: String, order: Order) -> Assignment {
        Assignment {
            id,
            order,
            installer_id: String::new(),
            status: Status::Waiting,
            cancel: Cancel::None,
            cancel_time: String::new(),
            version: 1,
        }
    }

    pub fn restore(
        id: String,
        order: Order,
        installer_id: String,
        (status, cancel, cancel_time): (Status, Cancel, String),
        version: i64,
    ) -> Assignment {
        Assignment {
            id,
            order,
            installer_id,
            status,
            cancel,
            cancel_time,
            version,
        }
    }

    /// Assigns an installer of the order's region; the same one again changes nothing.
    pub fn assign(&mut self, installer: &Installer) -> Result<Option<Raised>, DeskError> {
        if self.status == Status::Cancelled {
            return Err(DeskError::Cancelled);
        }
        if self.cancel == Cancel::Requested {
            return Err(DeskError::CancelPending);
        }
        if self.status != Status::Waiting {
            return if self.installer_id == installer.installer_id {
                Ok(None)
            } else {
                Err(DeskError::AlreadyAssigned)
            };
        }
        // A region is a place, however it was typed: `Seoul` is `seoul`.
        if !same_region(&installer.region, &self.order.region) {
            return Err(DeskError::OtherRegion {
                installer: installer.region.clone(),
                order: self.order.region.clone(),
            });
        }
        self.installer_id = installer.installer_id.clone();
        self.status = Status::Assigned;
        self.version += 1;
        Ok(Some(Raised::Assigned(self.version)))
    }

    /// The installer completed the installation. True when it changed.
    pub fn installed(&mut self) -> bool {
        if self.status != Status::Assigned {
            return false;
        }
        self.status = Status::Installed;
        self.version += 1;
        true
    }

    /// Completes the subscription, once installed; completed again changes nothing.
    pub fn complete(&mut self) -> Result<Option<Raised>, DeskError> {
        match self.status {
            Status::Installed => {
                self.status = Status::Joined;
                self.version += 1;
                Ok(Some(Raised::Completed(self.version)))
            }
            Status::Joined => Ok(None),
            Status::Cancelled => Err(DeskError::Cancelled),
            Status::Waiting | Status::Assigned => Err(DeskError::NotInstalled),
        }
    }

    /// The customer asked to cancel: recorded once, at `now`, to be answered. True when it
    /// changed.
    pub fn request_cancel(&mut self, now: String) -> bool {
        if self.cancel != Cancel::None || self.status == Status::Cancelled {
            return false;
        }
        self.cancel = Cancel::Requested;
        self.cancel_time = now;
        self.version += 1;
        true
    }

    /// The installation's answer to a requested cancellation, taken once.
    pub fn answer_cancel(&mut self, withdrawn: bool) -> Option<Raised> {
        if self.cancel != Cancel::Requested {
            return None;
        }
        self.version += 1;
        if withdrawn {
            self.status = Status::Cancelled;
            self.cancel = Cancel::Cancelled;
            Some(Raised::CancelAccepted(self.version))
        } else {
            self.cancel = Cancel::Rejected;
            Some(Raised::CancelRejected(self.version))
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn order(&self) -> &Order {
        &self.order
    }
    pub fn installer_id(&self) -> &str {
        &self.installer_id
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn cancel(&self) -> Cancel {
        self.cancel
    }
    pub fn cancel_time(&self) -> &str {
        &self.cancel_time
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

/// `status` of a PATCH: only "complete".
pub fn requested_complete(status: &str) -> Result<(), DeskError> {
    if status.eq_ignore_ascii_case("complete") {
        Ok(())
    } else {
        Err(DeskError::UnknownStatus)
    }
}

/// Whether two regions name the same place, whatever their case and surrounding blanks.
fn same_region(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul() -> Assignment {
        let order = Order {
            customer_id: "kim".into(),
            region: "seoul".into(),
            ..Order::default()
        };
        Assignment::waiting("o1".into(), order)
    }

    fn installer(id: &str, region: &str) -> Installer {
        Installer {
            installer_id: id.into(),
            name: id.into(),
            region: region.into(),
        }
    }

    #[test]
    fn only_an_installer_of_the_region_is_assigned_once() {
        let mut a = seoul();
        assert!(matches!(
            a.assign(&installer("b1", "busan")),
            Err(DeskError::OtherRegion { .. })
        ));
        assert_eq!(
            a.assign(&installer("s1", "Seoul")),
            Ok(Some(Raised::Assigned(2))),
            "a region's case does not matter"
        );
        assert_eq!(a.assign(&installer("s1", "seoul")), Ok(None));
        assert_eq!(
            a.assign(&installer("s2", "seoul")),
            Err(DeskError::AlreadyAssigned)
        );
    }

    #[test]
    fn completed_only_once_installed() {
        let mut a = seoul();
        a.assign(&installer("s1", "seoul")).unwrap();
        assert_eq!(a.complete(), Err(DeskError::NotInstalled));
        assert!(a.installed());
        assert!(!a.installed());
        assert_eq!(a.complete(), Ok(Some(Raised::Completed(4))));
        assert_eq!(a.complete(), Ok(None));
    }

    #[test]
    fn a_cancellation_is_answered_once() {
        let mut a = seoul();
        assert!(a.request_cancel("t1".into()));
        assert!(!a.request_cancel("t2".into()));
        assert_eq!(a.cancel_time(), "t1");
        assert_eq!(
            a.assign(&installer("s1", "seoul")),
            Err(DeskError::CancelPending)
        );
        assert_eq!(a.answer_cancel(true), Some(Raised::CancelAccepted(3)));
        assert_eq!(a.answer_cancel(false), None, "never answered twice");
        assert_eq!(
            (a.status(), a.cancel()),
            (Status::Cancelled, Cancel::Cancelled)
        );
        assert_eq!(
            a.assign(&installer("s1", "seoul")),
            Err(DeskError::Cancelled)
        );
    }

    #[test]
    fn a_rejected_cancellation_keeps_the_state() {
        let mut a = seoul();
        a.assign(&installer("s1", "seoul")).unwrap();
        a.installed();
        a.request_cancel("t1".into());
        assert_eq!(a.answer_cancel(false), Some(Raised::CancelRejected(5)));
        assert_eq!(
            (a.status(), a.cancel()),
            (Status::Installed, Cancel::Rejected)
        );
        assert!(a.complete().unwrap().is_some());
    }
}
