//! The payment's rules. The purchase id is the idempotency key: paying again for one
//! purchase with the same request answers the first payment; another request under the same
//! key is refused, never attributed to the first. A payment is approved, or void (cancelled
//! before it was made, so a late `Pay` cannot approve it), and an approved payment can be
//! cancelled once, which raises the compensation.

/// Highest amount one payment may carry, in won (the catalog's highest price).
pub const MAX_AMOUNT: i64 = 1_000_000;

/// An amount in won, within `0..=MAX_AMOUNT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Won(i32);

impl Won {
    pub fn new(amount: i64) -> Result<Won, PaymentError> {
        if !(0..=MAX_AMOUNT).contains(&amount) {
            return Err(PaymentError::AmountOutOfRange);
        }
        Ok(Won(amount as i32))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStatus {
    Approved,
    Cancelled,
}

impl PayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayStatus::Approved => "APPROVED",
            PayStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<PayStatus> {
        match s {
            "APPROVED" => Some(PayStatus::Approved),
            "CANCELLED" => Some(PayStatus::Cancelled),
            _ => None,
        }
    }
}

/// A request to pay for a purchase (ids checked at the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayRequest {
    pub purchase_id: String,
    /// Empty for an anonymous purchase.
    pub customer_id: String,
    pub vod_id: String,
    pub amount: Won,
    pub free_vod: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    request: PayRequest,
    status: PayStatus,
    version: i64,
}

/// Raised by an approval (`PaymentApproved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub purchase_id: String,
    pub customer_id: String,
    pub amount: Won,
    pub free_vod: bool,
}

/// Raised when an approved payment is cancelled (`PaymentCancelled`): the compensation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    pub purchase_id: String,
    pub customer_id: String,
    pub amount: Won,
    pub free_vod: bool,
    pub version: i64,
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
    /// automatic); an anonymous purchase has no free-VOD credit to spend.
    pub fn approve(request: PayRequest) -> Result<(Payment, Approved), PaymentError> {
        if request.free_vod && request.amount.get() != 0 {
            return Err(PaymentError::FreeVodNotFree);
        }
        if request.free_vod && request.customer_id.is_empty() {
            return Err(PaymentError::FreeVodWithoutCustomer);
        }
        let approved = Approved {
            purchase_id: request.purchase_id.clone(),
            customer_id: request.customer_id.clone(),
            amount: request.amount,
            free_vod: request.free_vod,
        };
        let payment = Payment {
            request,
            status: PayStatus::Approved,
            version: 1,
        };
        Ok((payment, approved))
    }

    /// A purchase that was cancelled or abandoned before its payment arrived: recorded as
    /// cancelled so a late `Pay` with the same key cannot approve it.
    pub fn void(purchase_id: &str, customer_id: &str) -> Payment {
        Payment {
            request: PayRequest {
                purchase_id: purchase_id.to_owned(),
                customer_id: customer_id.to_owned(),
                vod_id: String::new(),
                amount: Won(0),
                free_vod: false,
            },
            status: PayStatus::Cancelled,
            version: 1,
        }
    }

    /// A payment as stored.
    pub fn restore(request: PayRequest, status: PayStatus, version: i64) -> Payment {
        Payment {
            request,
            status,
            version,
        }
    }

    /// Cancels an approved payment and says what to compensate; a cancelled one stays as it
    /// is and raises nothing.
    pub fn cancel(&mut self) -> Option<Cancelled> {
        if self.status != PayStatus::Approved {
            return None;
        }
        self.status = PayStatus::Cancelled;
        self.version += 1;
        Some(Cancelled {
            purchase_id: self.request.purchase_id.clone(),
            customer_id: self.request.customer_id.clone(),
            amount: self.request.amount,
            free_vod: self.request.free_vod,
            version: self.version,
        })
    }

    /// Whether this recorded payment is the answer to `request` under the same key: the same
    /// request again (a retry), or any request once the key is void (the purchase is gone,
    /// and a void attributes nothing to anyone).
    pub fn answers(&self, request: &PayRequest) -> bool {
        self.is_void() || self.request == *request
    }

    /// A void recorded before any payment (a real payment always names its VOD).
    fn is_void(&self) -> bool {
        self.status == PayStatus::Cancelled && self.request.vod_id.is_empty()
    }

    pub fn request(&self) -> &PayRequest {
        &self.request
    }

    pub fn status(&self) -> PayStatus {
        self.status
    }

    pub fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(customer: &str, vod: &str, amount: i64, free_vod: bool) -> PayRequest {
        PayRequest {
            purchase_id: "p".into(),
            customer_id: customer.into(),
            vod_id: vod.into(),
            amount: Won::new(amount).unwrap(),
            free_vod,
        }
    }

    #[test]
    fn approves_and_validates() {
        let (paid, approved) = Payment::approve(request("c", "1", 1000, false)).unwrap();
        assert_eq!(paid.status(), PayStatus::Approved);
        assert_eq!(approved.amount.get(), 1000);
        assert!(Payment::approve(request("", "1", 1000, false)).is_ok());
        assert_eq!(Won::new(-1), Err(PaymentError::AmountOutOfRange));
        assert_eq!(
            Won::new(MAX_AMOUNT + 1),
            Err(PaymentError::AmountOutOfRange)
        );
        assert_eq!(
            Payment::approve(request("c", "1", 5, true)).unwrap_err(),
            PaymentError::FreeVodNotFree
        );
        assert_eq!(
            Payment::approve(request("", "1", 0, true)).unwrap_err(),
            PaymentError::FreeVodWithoutCustomer
        );
    }

    #[test]
    fn a_key_answers_only_its_own_request() {
        let (paid, _) = Payment::approve(request("kim", "1", 1000, false)).unwrap();
        assert!(paid.answers(&request("kim", "1", 1000, false)));
        for other in [
            request("lee", "1", 1000, false),
            request("kim", "2", 1000, false),
            request("kim", "1", 1, false),
            request("kim", "1", 0, true),
        ] {
            assert!(!paid.answers(&other));
        }
        let void = Payment::void("p", "kim");
        assert!(
            void.answers(&request("kim", "1", 1000, false)),
            "a void answers every late request"
        );
    }

    #[test]
    fn an_approved_payment_is_cancelled_once() {
        let (mut paid, _) = Payment::approve(request("kim", "1", 1000, false)).unwrap();
        let cancelled = paid.cancel().expect("approved: cancelled");
        assert_eq!((cancelled.amount.get(), cancelled.version), (1000, 2));
        assert_eq!(
            paid.cancel(),
            None,
            "cancelled already: nothing to compensate"
        );
        assert_eq!(
            Payment::void("p", "kim").cancel(),
            None,
            "a void has nothing to undo"
        );
    }
}
