//! The purchase aggregate and its rules. A purchase is recorded PENDING while its payment is
//! asked, then settled once: PAID, or FAILED (a free-VOD credit it spent comes back). Only a
//! paid purchase can be cancelled (its credit comes back too). A purchase without a customer
//! is anonymous: paid like any other, but with no account it earns and spends no credit.

/// Highest price a title may have, in won (the catalog's highest price).
pub const MAX_PRICE: i64 = 1_000_000;

/// An amount in won, within `0..=MAX_PRICE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Won(i32);

impl Won {
    pub const ZERO: Won = Won(0);

    pub fn new(amount: i64) -> Result<Won, PurchaseError> {
        if !(0..=MAX_PRICE).contains(&amount) {
            return Err(PurchaseError::PriceOutOfRange);
        }
        i32::try_from(amount)
            .map(Won)
            .map_err(|_| PurchaseError::PriceOutOfRange)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

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
    pub price: Won,
}

/// What was ordered, on which terms: fixed once the purchase is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub vod_id: String,
    pub vod_name: String,
    /// Empty when anonymous.
    pub customer_id: String,
    pub amount: Won,
    pub free_vod: bool,
    pub create_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    order: Order,
    status: OrderStatus,
    version: i64,
}

/// Raised when the payment approved the purchase (`PurchasePlaced`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order: Order,
    pub version: i64,
}

/// Raised when the payment did not approve it (`PurchaseFailed`): payment cancels a yes
/// that arrives too late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub purchase_id: String,
    pub customer_id: String,
    pub reason: String,
    pub version: i64,
    /// The free-VOD credit it spent goes back to the customer.
    pub credit_returned: bool,
}

/// Raised by a cancellation (`PurchaseCancelled`): payment and mileage compensate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    pub order: Order,
    pub version: i64,
    /// The free-VOD credit it spent goes back to the customer.
    pub credit_returned: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PurchaseError {
    #[error("must be \"cancel\"")]
    UnknownOrderStatus,
    #[error("purchase is {0} and cannot be cancelled")]
    NotCancellable(&'static str),
    #[error("purchase is {0} and was settled already")]
    Settled(&'static str),
    #[error("must be between 0 and 1000000")]
    PriceOutOfRange,
}

impl Purchase {
    /// A new purchase of `vod` at its price, by `customer_id` (empty: anonymous).
    pub fn place(id: String, vod: &Vod, customer_id: String, now: String) -> Purchase {
        let order = Order {
            id,
            vod_id: vod.id.clone(),
            vod_name: vod.name.clone(),
            customer_id,
            amount: vod.price,
            free_vod: false,
            create_time: now,
        };
        Purchase {
            order,
            status: OrderStatus::Pending,
            version: 1,
        }
    }

    /// A purchase as stored.
    pub fn restore(order: Order, status: OrderStatus, version: i64) -> Purchase {
        Purchase {
            order,
            status,
            version,
        }
    }

    /// Whether a create under this purchase's id asks for the same thing (AIP-155: a retry
    /// answers this purchase); another VOD or customer under the id is another request.
    pub fn same_request(&self, vod_id: &str, customer_id: &str) -> bool {
        self.order.vod_id == vod_id && self.order.customer_id == customer_id
    }

    /// Whether the buyer is anonymous (no account: no mileage, no credits).
    pub fn is_anonymous(&self) -> bool {
        self.order.customer_id.is_empty()
    }

    /// A free-VOD credit the customer holds pays for it, before payment is asked: nothing
    /// is charged. An anonymous buyer holds no credit, so this changes nothing for them.
    pub fn pay_with_credit(&mut self) -> bool {
        if self.is_anonymous() || self.status != OrderStatus::Pending {
            return false;
        }
        self.order.free_vod = true;
        self.order.amount = Won::ZERO;
        true
    }

    /// The payment approved it.
    pub fn paid(&mut self) -> Result<Placed, PurchaseError> {
        self.settle(OrderStatus::Paid)?;
        Ok(Placed {
            order: self.order.clone(),
            version: self.version,
        })
    }

    /// The payment refused it, or could not be reached.
    pub fn failed(&mut self, reason: String) -> Result<Failed, PurchaseError> {
        self.settle(OrderStatus::Failed)?;
        Ok(Failed {
            purchase_id: self.order.id.clone(),
            customer_id: self.order.customer_id.clone(),
            reason,
            version: self.version,
            credit_returned: self.order.free_vod,
        })
    }

    fn settle(&mut self, status: OrderStatus) -> Result<(), PurchaseError> {
        if self.status != OrderStatus::Pending {
            return Err(PurchaseError::Settled(self.status.as_str()));
        }
        self.status = status;
        self.version += 1;
        Ok(())
    }

    /// Cancels a paid purchase. Cancelling a cancelled purchase changes nothing and raises
    /// nothing (the seed's command may be repeated).
    pub fn cancel(&mut self) -> Result<Option<Cancelled>, PurchaseError> {
        match self.status {
            OrderStatus::Paid => {
                self.status = OrderStatus::Cancelled;
                self.version += 1;
                Ok(Some(Cancelled {
                    order: self.order.clone(),
                    version: self.version,
                    credit_returned: self.order.free_vod,
                }))
            }
            OrderStatus::Cancelled => Ok(None),
            other => Err(PurchaseError::NotCancellable(other.as_str())),
        }
    }

    pub fn order(&self) -> &Order {
        &self.order
    }

    pub fn id(&self) -> &str {
        &self.order.id
    }

    pub fn status(&self) -> OrderStatus {
        self.status
    }

    pub fn version(&self) -> i64 {
        self.version
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
            price: Won::new(1500).unwrap(),
        }
    }

    fn place(customer: &str) -> Purchase {
        Purchase::place("p".into(), &vod(), customer.into(), String::new())
    }

    #[test]
    fn free_purchase_costs_nothing() {
        let mut p = place("kim");
        assert_eq!((p.order().amount.get(), p.order().free_vod), (1500, false));
        assert!(p.pay_with_credit());
        assert_eq!((p.order().amount.get(), p.order().free_vod), (0, true));
    }

    #[test]
    fn anonymous_purchases_spend_no_credit() {
        let mut p = place("");
        assert!(p.is_anonymous());
        assert!(!p.pay_with_credit());
        assert_eq!((p.order().amount.get(), p.order().free_vod), (1500, false));
    }

    #[test]
    fn a_purchase_is_settled_once() {
        let mut p = place("kim");
        let placed = p.paid().unwrap();
        assert_eq!((placed.version, p.status()), (2, OrderStatus::Paid));
        assert_eq!(p.paid(), Err(PurchaseError::Settled("PAID")));
        assert_eq!(
            p.failed("late".into()).unwrap_err(),
            PurchaseError::Settled("PAID")
        );
        assert!(!p.pay_with_credit(), "terms are fixed once settled");
    }

    #[test]
    fn a_failed_free_purchase_returns_its_credit() {
        let mut p = place("kim");
        p.pay_with_credit();
        let failed = p.failed("refused".into()).unwrap();
        assert!(failed.credit_returned);
        assert_eq!((failed.version, p.status()), (2, OrderStatus::Failed));
        let mut paid = place("kim");
        assert!(!paid.failed("refused".into()).unwrap().credit_returned);
    }

    #[test]
    fn cancel_is_idempotent_and_only_for_paid() {
        let mut p = place("kim");
        assert_eq!(p.cancel(), Err(PurchaseError::NotCancellable("PENDING")));
        p.paid().unwrap();
        let cancelled = p.cancel().unwrap().expect("paid: cancelled");
        assert_eq!((cancelled.version, cancelled.credit_returned), (3, false));
        assert_eq!(p.cancel(), Ok(None));
        let mut failed = place("kim");
        failed.failed("refused".into()).unwrap();
        assert_eq!(
            failed.cancel(),
            Err(PurchaseError::NotCancellable("FAILED"))
        );
    }

    #[test]
    fn a_retry_is_the_same_vod_for_the_same_customer() {
        let p = place("kim");
        assert!(p.same_request("2", "kim"));
        assert!(!p.same_request("1", "kim"));
        assert!(!p.same_request("2", "lee"));
        assert!(!p.same_request("2", ""));
    }

    #[test]
    fn prices_are_bounded() {
        assert_eq!(Won::new(-1), Err(PurchaseError::PriceOutOfRange));
        assert_eq!(Won::new(MAX_PRICE + 1), Err(PurchaseError::PriceOutOfRange));
        assert_eq!(Won::new(MAX_PRICE).unwrap().get(), 1_000_000);
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
