//! The payment's rules. The purchase id is the idempotency key: paying twice for one
//! purchase answers the first payment.

pub const APPROVED: &str = "APPROVED";
pub const CANCELLED: &str = "CANCELLED";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub purchase_id: String,
    pub customer_id: String,
    pub vod_id: String,
    pub amount: i64,
    pub free_vod: bool,
    pub status: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaymentError {
    #[error("is required")]
    Missing(&'static str),
    #[error("must not be negative")]
    NegativeAmount,
    #[error("must be 0 when a free-VOD credit pays")]
    FreeVodNotFree,
}

impl PaymentError {
    pub fn field(&self) -> &'static str {
        match self {
            PaymentError::Missing(field) => field,
            PaymentError::NegativeAmount | PaymentError::FreeVodNotFree => "amount",
        }
    }
}

impl Payment {
    /// Approves a payment request (there is no amount to collect in the seed: it is automatic).
    pub fn approve(
        purchase_id: &str,
        customer_id: &str,
        vod_id: &str,
        amount: i64,
        free_vod: bool,
    ) -> Result<Payment, PaymentError> {
        if purchase_id.trim().is_empty() {
            return Err(PaymentError::Missing("purchase_id"));
        }
        if customer_id.trim().is_empty() {
            return Err(PaymentError::Missing("customer_id"));
        }
        if amount < 0 {
            return Err(PaymentError::NegativeAmount);
        }
        if free_vod && amount != 0 {
            return Err(PaymentError::FreeVodNotFree);
        }
        Ok(Payment {
            purchase_id: purchase_id.to_owned(),
            customer_id: customer_id.to_owned(),
            vod_id: vod_id.to_owned(),
            amount,
            free_vod,
            status: APPROVED.to_owned(),
        })
    }

    /// A purchase that was cancelled or abandoned before its payment arrived: recorded as
    /// cancelled so a late `Pay` with the same key cannot approve it.
    pub fn voided(purchase_id: &str, customer_id: &str) -> Payment {
        Payment {
            purchase_id: purchase_id.to_owned(),
            customer_id: customer_id.to_owned(),
            vod_id: String::new(),
            amount: 0,
            free_vod: false,
            status: CANCELLED.to_owned(),
        }
    }

    pub fn is_approved(&self) -> bool {
        self.status == APPROVED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approves_and_validates() {
        assert!(
            Payment::approve("p", "c", "1", 1000, false)
                .unwrap()
                .is_approved()
        );
        assert_eq!(
            Payment::approve("", "c", "1", 0, false),
            Err(PaymentError::Missing("purchase_id"))
        );
        assert_eq!(
            Payment::approve("p", "c", "1", -1, false),
            Err(PaymentError::NegativeAmount)
        );
        assert_eq!(
            Payment::approve("p", "c", "1", 5, true),
            Err(PaymentError::FreeVodNotFree)
        );
    }
}
