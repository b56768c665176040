//! The purchase aggregate and its rules.

/// Who buys when no customer is named (until authentication arrives).
pub const GUEST: &str = "guest";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Recorded, payment under way.
    Pending,
    Paid,
    /// Payment refused or unreachable: never approved.
    Failed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Paid => "PAID",
            OrderStatus::Failed => "FAILED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// A title as purchase knows it (its replica of the catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vod {
    pub id: String,
    pub name: String,
    pub price: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub id: String,
    pub vod_id: String,
    pub vod_name: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub amount: i64,
    pub free_vod: bool,
    pub create_time: String,
    pub version: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PurchaseError {
    #[error("must be \"cancel\"")]
    UnknownOrderStatus,
    #[error("purchase is {0} and cannot be cancelled")]
    NotCancellable(&'static str),
}

impl Purchase {
    /// A new purchase of `vod`, free when the customer spends a free-VOD credit.
    pub fn place(
        id: String,
        vod: &Vod,
        customer_id: String,
        free_vod: bool,
        now: String,
    ) -> Purchase {
        Purchase {
            id,
            vod_id: vod.id.clone(),
            vod_name: vod.name.clone(),
            customer_id,
            status: OrderStatus::Pending,
            amount: if free_vod { 0 } else { vod.price },
            free_vod,
            create_time: now,
            version: 1,
        }
    }

    /// Cancels a paid purchase. Cancelling a cancelled purchase changes nothing (the seed's
    /// command may be repeated); returns whether the status changed.
    pub fn cancel(&mut self) -> Result<bool, PurchaseError> {
        match self.status {
            OrderStatus::Paid => {
                self.status = OrderStatus::Cancelled;
                self.version += 1;
                Ok(true)
            }
            OrderStatus::Cancelled => Ok(false),
            other => Err(PurchaseError::NotCancellable(other.as_str())),
        }
    }
}

/// The seed's `PATCH {"orderStatus": "cancel"}`: the only status a client may set.
pub fn requested_cancel(order_status: &str) -> Result<(), PurchaseError> {
    match order_status.trim().to_ascii_lowercase().as_str() {
        "cancel" | "cancelled" | "canceled" => Ok(()),
        _ => Err(PurchaseError::UnknownOrderStatus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vod() -> Vod {
        Vod {
            id: "2".into(),
            name: "ToBusan".into(),
            price: 1500,
        }
    }

    #[test]
    fn free_purchase_costs_nothing() {
        let p = Purchase::place("p".into(), &vod(), GUEST.into(), true, String::new());
        assert_eq!(p.amount, 0);
        let p = Purchase::place("p".into(), &vod(), GUEST.into(), false, String::new());
        assert_eq!(p.amount, 1500);
    }

    #[test]
    fn cancel_is_idempotent_and_only_for_paid() {
        let mut p = Purchase::place("p".into(), &vod(), GUEST.into(), false, String::new());
        assert_eq!(p.cancel(), Err(PurchaseError::NotCancellable("PENDING")));
        p.status = OrderStatus::Paid;
        assert_eq!(p.cancel(), Ok(true));
        assert_eq!(p.cancel(), Ok(false));
    }

    #[test]
    fn accepts_the_seeds_cancel_word() {
        assert!(requested_cancel("cancel").is_ok());
        assert!(requested_cancel("CANCELLED").is_ok());
        assert_eq!(
            requested_cancel("paid"),
            Err(PurchaseError::UnknownOrderStatus)
        );
    }
}
