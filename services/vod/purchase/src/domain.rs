//! The purchase aggregate and its rules. A purchase without a customer is anonymous: it is
//! paid like any other, but it has no account, so it earns no mileage and spends no credit.

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
    /// Empty when anonymous.
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
    /// A new purchase of `vod` at its price, by `customer_id` (empty: anonymous).
    pub fn place(id: String, vod: &Vod, customer_id: String, now: String) -> Purchase {
        Purchase {
            id,
            vod_id: vod.id.clone(),
            vod_name: vod.name.clone(),
            customer_id,
            status: OrderStatus::Pending,
            amount: vod.price,
            free_vod: false,
            create_time: now,
            version: 1,
        }
    }

    /// Whether the buyer is anonymous (no account: no mileage, no credits).
    pub fn is_anonymous(&self) -> bool {
        self.customer_id.is_empty()
    }

    /// A free-VOD credit the customer holds pays for it: nothing is charged. An anonymous
    /// buyer holds no credit, so this changes nothing for them.
    pub fn pay_with_credit(&mut self) -> bool {
        if self.is_anonymous() {
            return false;
        }
        self.free_vod = true;
        self.amount = 0;
        true
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
        let mut p = Purchase::place("p".into(), &vod(), "kim".into(), String::new());
        assert_eq!((p.amount, p.free_vod), (1500, false));
        assert!(p.pay_with_credit());
        assert_eq!((p.amount, p.free_vod), (0, true));
    }

    #[test]
    fn anonymous_purchases_spend_no_credit() {
        let mut p = Purchase::place("p".into(), &vod(), String::new(), String::new());
        assert!(p.is_anonymous());
        assert!(!p.pay_with_credit());
        assert_eq!((p.amount, p.free_vod), (1500, false));
    }

    #[test]
    fn cancel_is_idempotent_and_only_for_paid() {
        let mut p = Purchase::place("p".into(), &vod(), "kim".into(), String::new());
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
