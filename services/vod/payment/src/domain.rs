//! The payment's rules. The purchase id is the idempotency key: paying again for one
//! purchase with the same request answers the first payment; another request under the same
//! key is refused, never attributed to the first.

pub const APPROVED: &str = "APPROVED";
pub const CANCELLED: &str = "CANCELLED";
/// Highest amount one payment may carry, in won (the catalog's highest price).
pub const MAX_AMOUNT: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub purchase_id: String,
    /// Empty for an anonymous purchase.
    pub customer_id: String,
    pub vod_id: String,
    pub amount: i64,
    pub free_vod: bool,
    pub status: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaymentError {
    #[error("must be between 0 and 1000000")]
    AmountOutOfRange,
    #[error("must be 0 when a free-VOD credit pays")]
    FreeVodNotFree,
    #[error("is required when a free-VOD credit pays")]
    FreeVodWithoutCustomer,
}

impl PaymentError {
    pub fn field(&self) -> &'static str {
        match self {
            PaymentError::AmountOutOfRange | PaymentError::FreeVodNotFree => "amount",
            PaymentError::FreeVodWithoutCustomer => "customer_id",
        }
    }
}

impl Payment {
    /// Approves a payment request (there is no amount to collect in the seed: it is
    /// automatic). Ids arrive checked by the adapter; `customer_id` is empty for an
    /// anonymous purchase, which has no free-VOD credit to spend.
    pub fn approve(
        purchase_id: &str,
        customer_id: &str,
        vod_id: &str,
        amount: i64,
        free_vod: bool,
    ) -> Result<Payment, PaymentError> {
        if !(0..=MAX_AMOUNT).contains(&amount) {
            return Err(PaymentError::AmountOutOfRange);
        }
        if free_vod && amount != 0 {
            return Err(PaymentError::FreeVodNotFree);
        }
        if free_vod && customer_id.is_empty() {
            return Err(PaymentError::FreeVodWithoutCustomer);
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

    /// A void recorded before any payment (a real payment always names its VOD).
    fn is_void(&self) -> bool {
        self.status == CANCELLED && self.vod_id.is_empty()
    }

    /// Whether this recorded payment is the answer to `request` under the same key: the same
    /// request again (a retry), or any request once the key is void (the purchase is gone,
    /// and a void attributes nothing to anyone).
    pub fn answers(&self, request: &Payment) -> bool {
        self.is_void()
            || (self.customer_id == request.customer_id
                && self.vod_id == request.vod_id
                && self.amount == request.amount
                && self.free_vod == request.free_vod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approves_and_validates() {
        let paid = Payment::approve("p", "c", "1", 1000, false).unwrap();
        assert_eq!(paid.status, APPROVED);
        assert!(Payment::approve("p", "", "1", 1000, false).is_ok());
        assert_eq!(
            Payment::approve("p", "c", "1", -1, false),
            Err(PaymentError::AmountOutOfRange)
        );
        assert_eq!(
            Payment::approve("p", "c", "1", MAX_AMOUNT + 1, false),
            Err(PaymentError::AmountOutOfRange)
        );
        assert_eq!(
            Payment::approve("p", "c", "1", 5, true),
            Err(PaymentError::FreeVodNotFree)
        );
        assert_eq!(
            Payment::approve("p", "", "1", 0, true),
            Err(PaymentError::FreeVodWithoutCustomer)
        );
    }

    #[test]
    fn a_key_answers_only_its_own_request() {
        let paid = Payment::approve("p", "kim", "1", 1000, false).unwrap();
        assert!(paid.answers(&paid.clone()));
        for other in [
            Payment::approve("p", "lee", "1", 1000, false),
            Payment::approve("p", "kim", "2", 1000, false),
            Payment::approve("p", "kim", "1", 1, false),
            Payment::approve("p", "kim", "1", 0, true),
        ] {
            assert!(!paid.answers(&other.unwrap()));
        }
        let void = Payment::voided("p", "kim");
        assert!(void.answers(&paid), "a void answers every late request");
    }
}
