//! The join order and its rules: a customer applies for a product in a region; the order
//! follows the desk and the installer forward only (REQUESTED, ASSIGNED, INSTALLED, JOINED),
//! whatever order their events arrive in; a cancellation is asked once and answered once
//! (CANCELLED, or CANCEL_REJECTED with the order keeping its state).

mediamesh_mesh::named! {
    pub enum Product {
        Internet = "INTERNET",
        InternetTv = "INTERNET_TV",
    }
}

mediamesh_mesh::named! {
    /// Where the order is, in process order (the derived order is the rank).
    #[derive(PartialOrd, Ord)]
    pub enum Status {
        Requested = "REQUESTED",
        Assigned = "ASSIGNED",
        Installed = "INSTALLED",
        Joined = "JOINED",
        Cancelled = "CANCELLED",
    }
}

mediamesh_mesh::named! {
    /// Where the order's cancellation is.
    pub enum Cancel {
        None = "",
        Requested = "CANCEL_REQUESTED",
        Cancelled = "CANCELLED",
        Rejected = "CANCEL_REJECTED",
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OrderError {
    #[error("status must be \"cancel\"")]
    UnknownStatus,
}

/// What the customer applied for, as given (already checked at the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub customer_id: String,
    pub customer_name: String,
    pub address: String,
    pub region: String,
    pub product: Product,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOrder {
    id: String,
    application: Application,
    status: Status,
    cancel: Cancel,
    create_time: String,
    version: i64,
}

/// An event an order raises, with the version it brings the order to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raised {
    Requested(i64),
    CancelRequested(i64),
}

impl JoinOrder {
    /// A new order, REQUESTED; raises `Requested`.
    pub fn request(id: String, application: Application, now: String) -> (JoinOrder, Raised) {
        let order = JoinOrder {
            id,
            application,
            status: Status::Requested,
            cancel: Cancel::None,
            create_time: now,
            version: 1,
        };
        (order, Raised::Requested(1))
    }

    pub fn restore(
        id: String,
        application: Application,
        status: Status,
        cancel: Cancel,
        create_time: String,
        version: i64,
    ) -> JoinOrder {
        JoinOrder {
            id,
            application,
            status,
            cancel,
            create_time,
            version,
        }
    }

    /// The customer asks to cancel: once. Asked again, or about a cancelled order, nothing
    /// more happens (the first answer stands).
    pub fn request_cancel(&mut self) -> Option<Raised> {
        if self.cancel != Cancel::None || self.status == Status::Cancelled {
            return None;
        }
        self.cancel = Cancel::Requested;
        self.version += 1;
        Some(Raised::CancelRequested(self.version))
    }

    /// The desk or the installer moved the order to `status`: forward only, never out of
    /// CANCELLED. True when it changed.
    pub fn advance(&mut self, status: Status) -> bool {
        if status <= self.status || self.status == Status::Cancelled {
            return false;
        }
        self.status = status;
        self.version += 1;
        true
    }

    /// The installation was withdrawn: the order is cancelled.
    pub fn cancelled(&mut self) -> bool {
        if self.status == Status::Cancelled {
            return false;
        }
        self.status = Status::Cancelled;
        self.cancel = Cancel::Cancelled;
        self.version += 1;
        true
    }

    /// Installed already: the cancellation is refused, the order keeps its state.
    pub fn cancel_rejected(&mut self) -> bool {
        if matches!(self.cancel, Cancel::Rejected | Cancel::Cancelled) {
            return false;
        }
        self.cancel = Cancel::Rejected;
        self.version += 1;
        true
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn application(&self) -> &Application {
        &self.application
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn cancel(&self) -> Cancel {
        self.cancel
    }
    pub fn create_time(&self) -> &str {
        &self.create_time
    }
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The same application again (a retried create with the same id).
    pub fn same_request(&self, other: &JoinOrder) -> bool {
        self.id == other.id && self.application == other.application
    }
}

/// `status` of a PATCH: only "cancel".
pub fn requested_cancel(status: &str) -> Result<(), OrderError> {
    if status.eq_ignore_ascii_case("cancel") {
        Ok(())
    } else {
        Err(OrderError::UnknownStatus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> JoinOrder {
        let application = Application {
            customer_id: "kim".into(),
            customer_name: "Kim".into(),
            address: "Seoul 1".into(),
            region: "seoul".into(),
            product: Product::InternetTv,
        };
        JoinOrder::request("o1".into(), application, "t0".into()).0
    }

    #[test]
    fn steps_only_move_forward() {
        let mut o = order();
        assert!(o.advance(Status::Installed));
        assert!(!o.advance(Status::Assigned), "a late assignment event");
        assert!(o.advance(Status::Joined));
        assert_eq!((o.status(), o.version()), (Status::Joined, 3));
    }

    #[test]
    fn a_cancellation_is_asked_and_answered_once() {
        let mut o = order();
        assert_eq!(o.request_cancel(), Some(Raised::CancelRequested(2)));
        assert_eq!(o.request_cancel(), None);
        assert!(o.cancelled());
        assert!(!o.cancelled());
        assert!(!o.cancel_rejected(), "answered already");
        assert!(!o.advance(Status::Joined), "never out of CANCELLED");
        assert_eq!(
            (o.status(), o.cancel()),
            (Status::Cancelled, Cancel::Cancelled)
        );
    }

    #[test]
    fn a_rejected_cancellation_keeps_the_state() {
        let mut o = order();
        o.advance(Status::Installed);
        o.request_cancel();
        assert!(o.cancel_rejected());
        assert_eq!(
            (o.status(), o.cancel()),
            (Status::Installed, Cancel::Rejected)
        );
        assert_eq!(o.request_cancel(), None, "the answer stands");
        assert!(o.advance(Status::Joined));
    }

    #[test]
    fn only_known_products_and_statuses_parse() {
        assert_eq!(Product::parse("INTERNET_TV"), Some(Product::InternetTv));
        assert_eq!(Product::parse("TV"), None);
        assert_eq!(requested_cancel("cancel"), Ok(()));
        assert_eq!(requested_cancel("join"), Err(OrderError::UnknownStatus));
    }
}
