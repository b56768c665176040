//! The payment's rules. The reservation id is the idempotency key: paying again for one
//! reservation with the same request answers the first payment; another request under the
//! same key is refused. A reservation that failed or was cancelled before its payment
//! arrived leaves a void, so a late `Pay` cannot approve it; an approved payment is cancelled
//! once, which raises the compensation.

/// The largest amount one reservation pays, in won (a ticket is 10,000 won).
pub const MAX_AMOUNT: i64 = 10_000_000;

/// An amount in won, within `0..=MAX_AMOUNT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Won(i32);

impl Won {
    pub fn new(amount: i64) -> Result<Won, AmountOutOfRange> {
        if !(0..=MAX_AMOUNT).contains(&amount) {
            return Err(AmountOutOfRange);
        }
        i32::try_from(amount).map(Won).map_err(|_| AmountOutOfRange)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be between 0 and 10000000")]
pub struct AmountOutOfRange;

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

/// A request to pay for a reservation (ids checked at the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayRequest {
    pub rsv_id: String,
    pub movie_id: String,
    /// Empty for an anonymous reservation.
    pub customer_id: String,
    pub amount: Won,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    request: PayRequest,
    status: PayStatus,
    /// A void knows no amount: a later `Pay` is compared without it.
    voided: bool,
}

/// Raised by an approval (`PaymentApproved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub rsv_id: String,
    pub movie_id: String,
    pub amount: Won,
}

/// Raised when the payment's reservation is cancelled or abandoned (`PaymentCancelled`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    pub rsv_id: String,
    pub movie_id: String,
    pub customer_id: String,
}

/// Why a reservation's payment is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The customer asked: the reservation closes when it hears back, whatever was paid.
    CancelRequested,
    /// The reservation failed: only an approved payment has something to undo.
    ReservationFailed,
}

/// The reservation a cancellation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub rsv_id: String,
    pub movie_id: String,
    pub customer_id: String,
}

impl Payment {
    /// Approves a payment request (the seed collects nothing: approval is automatic).
    pub fn approve(request: PayRequest) -> (Payment, Approved) {
        let approved = Approved {
            rsv_id: request.rsv_id.clone(),
            movie_id: request.movie_id.clone(),
            amount: request.amount,
        };
        let payment = Payment {
            request,
            status: PayStatus::Approved,
            voided: false,
        };
        (payment, approved)
    }

    /// The mark a failed or cancelled reservation leaves when it has no payment yet.
    pub fn void(target: &Target) -> Payment {
        Payment {
            request: PayRequest {
                rsv_id: target.rsv_id.clone(),
                movie_id: target.movie_id.clone(),
                customer_id: target.customer_id.clone(),
                amount: Won(0),
            },
            status: PayStatus::Cancelled,
            voided: true,
        }
    }

    /// A payment as stored.
    pub fn restore(request: PayRequest, status: PayStatus, voided: bool) -> Payment {
        Payment {
            request,
            status,
            voided,
        }
    }

    /// Cancels the payment for `cause` (on `None`, no payment existed and a void was left) and
    /// says what to raise: an approved payment is cancelled once; a customer's cancellation is
    /// always answered, since the reservation waits for it to close.
    pub fn cancel(
        payment: Option<&mut Payment>,
        target: &Target,
        cause: Cause,
    ) -> Option<Cancelled> {
        let was_approved = match payment {
            Some(p) if p.status == PayStatus::Approved => {
                p.status = PayStatus::Cancelled;
                true
            }
            _ => false,
        };
        (was_approved || cause == Cause::CancelRequested).then(|| Cancelled {
            rsv_id: target.rsv_id.clone(),
            movie_id: target.movie_id.clone(),
            customer_id: target.customer_id.clone(),
        })
    }

    /// Whether this recorded payment answers `request` under the same key: the same request
    /// again (a retry); a void answers any amount for its own movie and customer.
    pub fn answers(&self, request: &PayRequest) -> bool {
        let p = &self.request;
        p.movie_id == request.movie_id
            && p.customer_id == request.customer_id
            && (self.voided || p.amount == request.amount)
    }

    pub fn request(&self) -> &PayRequest {
        &self.request
    }

    pub fn status(&self) -> PayStatus {
        self.status
    }

    pub fn is_void(&self) -> bool {
        self.voided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(customer: &str, movie: &str, amount: i64) -> PayRequest {
        PayRequest {
            rsv_id: "r".into(),
            movie_id: movie.into(),
            customer_id: customer.into(),
            amount: Won::new(amount).unwrap(),
        }
    }

    fn target() -> Target {
        Target {
            rsv_id: "r".into(),
            movie_id: "m".into(),
            customer_id: "kim".into(),
        }
    }

    #[test]
    fn amounts_are_bounded() {
        assert_eq!(Won::new(10_000).unwrap().get(), 10_000);
        assert_eq!(Won::new(-1), Err(AmountOutOfRange));
        assert_eq!(Won::new(MAX_AMOUNT + 1), Err(AmountOutOfRange));
    }

    #[test]
    fn a_key_answers_only_its_own_request() {
        let (paid, approved) = Payment::approve(request("kim", "m", 10_000));
        assert_eq!(
            (paid.status(), approved.amount.get()),
            (PayStatus::Approved, 10_000)
        );
        assert!(paid.answers(&request("kim", "m", 10_000)));
        for other in [
            request("lee", "m", 10_000),
            request("kim", "n", 10_000),
            request("kim", "m", 1),
        ] {
            assert!(!paid.answers(&other));
        }
        let void = Payment::void(&target());
        assert!(void.answers(&request("kim", "m", 10_000)), "any amount");
        assert!(
            !void.answers(&request("kim", "n", 10_000)),
            "not another movie"
        );
    }

    #[test]
    fn an_approved_payment_is_cancelled_once() {
        let (mut paid, _) = Payment::approve(request("kim", "m", 10_000));
        let failed = Cause::ReservationFailed;
        assert!(Payment::cancel(Some(&mut paid), &target(), failed).is_some());
        assert_eq!(paid.status(), PayStatus::Cancelled);
        assert_eq!(Payment::cancel(Some(&mut paid), &target(), failed), None);
        assert_eq!(
            Payment::cancel(None, &target(), failed),
            None,
            "a void undoes nothing"
        );
    }

    #[test]
    fn a_customer_cancellation_is_always_answered() {
        let requested = Cause::CancelRequested;
        assert!(Payment::cancel(None, &target(), requested).is_some());
        let mut void = Payment::void(&target());
        assert!(Payment::cancel(Some(&mut void), &target(), requested).is_some());
    }
}
