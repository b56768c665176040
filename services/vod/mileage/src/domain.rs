//! Mileage rules: what a payment earns, points per paid purchase and the free-VOD threshold.
//! A credit must be earned by money actually paid: a purchase earns at most what it cost, a
//! cancellation takes back an unused credit before anything else, and a credit that was
//! spent before its points were taken back leaves a debt that blocks the next credit.

/// Points credited for each paid purchase (at most: a purchase earns no more than it cost).
pub const POINTS_PER_PURCHASE: i64 = 1000;
/// Points that buy one free VOD.
pub const FREE_VOD_PRICE: i64 = 5000;

/// What an approved payment earns its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earning {
    /// Anonymous (no account), or nothing was paid.
    Nothing,
    /// A paid purchase: points.
    Points(i64),
    /// A free VOD: it spends a credit and earns nothing.
    SpendsCredit,
}

impl Earning {
    /// Points are what was paid, capped at 1000: five 1-won purchases earn 5 points, not a
    /// free VOD worth a million.
    pub fn of(customer_id: &str, amount: i64, free_vod: bool) -> Earning {
        match (customer_id.is_empty(), free_vod) {
            (true, _) => Earning::Nothing,
            (false, true) => Earning::SpendsCredit,
            (false, false) if amount <= 0 => Earning::Nothing,
            (false, false) => Earning::Points(amount.min(POINTS_PER_PURCHASE)),
        }
    }
}

/// A customer's mileage account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    customer_id: String,
    points: i64,
    credits_issued: i64,
    credits_used: i64,
}

/// Why a credit cannot be spent or given back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CreditError {
    #[error("customer has no spent free-VOD credit to give back")]
    NothingSpent,
}

/// Raised by crediting a paid purchase (`MileageCredited`, and `FreeVodCreditIssued` when
/// 5000 points were turned into a credit).
#[derive(Debug, PartialEq, Eq)]
pub struct Credited {
    /// The balance after it.
    pub points: i64,
    pub free_vod_issued: bool,
}

/// Raised by taking a cancelled purchase's points back (`MileageReversed`, and
/// `FreeVodCreditRevoked` when an unused credit was taken back first).
#[derive(Debug, PartialEq, Eq)]
pub struct Reversed {
    /// The balance after it (below zero: a debt).
    pub points: i64,
    pub credit_revoked: bool,
}

/// How a free VOD was paid for.
#[derive(Debug, PartialEq, Eq)]
pub enum Spent {
    /// With a credit the account held.
    Credit,
    /// The credit had been taken back meanwhile (a cancellation reached mileage before the
    /// free purchase did): its price is owed in points. The balance after it.
    Debt { points: i64 },
}

impl Account {
    /// An account as stored.
    pub fn restore(customer_id: String, points: i64, issued: i64, used: i64) -> Account {
        Account {
            customer_id,
            points,
            credits_issued: issued,
            credits_used: used,
        }
    }

    pub fn customer_id(&self) -> &str {
        &self.customer_id
    }

    pub fn points(&self) -> i64 {
        self.points
    }

    pub fn credits_issued(&self) -> i64 {
        self.credits_issued
    }

    pub fn credits_used(&self) -> i64 {
        self.credits_used
    }

    /// Free-VOD credits issued and not yet used.
    pub fn free_vod_credits(&self) -> i64 {
        self.credits_issued - self.credits_used
    }

    /// Credits a paid purchase; converts 5000 points into a free-VOD credit.
    pub fn credit_purchase(&mut self, points: i64) -> Credited {
        self.points += points;
        let free_vod_issued = self.points >= FREE_VOD_PRICE;
        if free_vod_issued {
            self.points -= FREE_VOD_PRICE;
            self.credits_issued += 1;
        }
        Credited {
            points: self.points,
            free_vod_issued,
        }
    }

    /// Takes back the points of a cancelled purchase. An unused credit is taken back first
    /// (its 5000 points return to the balance), so cancelled purchases never leave a credit
    /// behind. When the credit was spent already the balance goes below zero: a debt that
    /// later purchases pay back before a new credit is issued.
    pub fn reverse_purchase(&mut self, points: i64) -> Reversed {
        // A refunded debt (negative points) gives points back; it revokes nothing.
        let credit_revoked = points > 0 && self.free_vod_credits() > 0;
        if credit_revoked {
            self.credits_issued -= 1;
            self.points += FREE_VOD_PRICE;
        }
        self.points -= points;
        Reversed {
            points: self.points,
            credit_revoked,
        }
    }

    /// Spends a free-VOD credit. The credit balance never goes below zero: when purchase
    /// spent a credit that a cancellation took back meanwhile (the two cross in flight),
    /// the free VOD is charged as a debt of its 5000 points instead.
    pub fn use_credit(&mut self) -> Spent {
        if self.free_vod_credits() <= 0 {
            self.points -= FREE_VOD_PRICE;
            return Spent::Debt {
                points: self.points,
            };
        }
        self.credits_used += 1;
        Spent::Credit
    }

    /// Gives back a spent credit (its purchase was cancelled). Only a spent credit can come
    /// back, so the balance never exceeds what was issued.
    pub fn restore_credit(&mut self) -> Result<(), CreditError> {
        if self.credits_used <= 0 {
            return Err(CreditError::NothingSpent);
        }
        self.credits_used -= 1;
        Ok(())
    }
}

/// A count as the contracts carry it (int32), saturating: a balance past two billion
/// points would take two million purchases.
pub fn wire(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account::restore("kim".into(), 0, 0, 0)
    }

    #[test]
    fn what_a_payment_earns() {
        assert_eq!(Earning::of("", 1000, false), Earning::Nothing);
        assert_eq!(Earning::of("", 0, true), Earning::Nothing);
        assert_eq!(Earning::of("kim", 0, false), Earning::Nothing);
        assert_eq!(Earning::of("kim", 0, true), Earning::SpendsCredit);
        assert_eq!(
            Earning::of("kim", 1500, false),
            Earning::Points(POINTS_PER_PURCHASE)
        );
    }

    #[test]
    fn fifth_purchase_issues_a_free_vod() {
        let mut account = account();
        for _ in 0..4 {
            assert!(!account.credit_purchase(POINTS_PER_PURCHASE).free_vod_issued);
        }
        assert_eq!(
            account.credit_purchase(POINTS_PER_PURCHASE),
            Credited {
                points: 0,
                free_vod_issued: true
            }
        );
        assert_eq!(account.free_vod_credits(), 1);
        assert_eq!(account.use_credit(), Spent::Credit);
        assert_eq!(account.free_vod_credits(), 0);
    }

    #[test]
    fn credits_never_go_negative() {
        let mut account = account();
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 0);
        for _ in 0..5 {
            account.credit_purchase(POINTS_PER_PURCHASE);
        }
        assert_eq!(account.use_credit(), Spent::Credit);
        account.restore_credit().unwrap();
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 1);
    }

    #[test]
    fn a_free_vod_without_a_credit_is_a_debt_not_a_negative_credit() {
        let mut account = account();
        assert_eq!(account.use_credit(), Spent::Debt { points: -5000 });
        assert_eq!(account.free_vod_credits(), 0);
        // Paid back first: four purchases leave it at -1000 and issue nothing.
        for _ in 0..4 {
            assert!(!account.credit_purchase(POINTS_PER_PURCHASE).free_vod_issued);
        }
        assert_eq!(account.points(), -1000);
        // Its cancellation refunds the debt; no credit is revoked for it.
        let refunded = account.reverse_purchase(-FREE_VOD_PRICE);
        assert_eq!((refunded.points, refunded.credit_revoked), (4000, false));
    }

    #[test]
    fn a_purchase_earns_what_was_paid_at_most() {
        assert_eq!(Earning::of("kim", 1, false), Earning::Points(1));
        assert_eq!(Earning::of("kim", 999, false), Earning::Points(999));
        assert_eq!(Earning::of("kim", 1000, false), Earning::Points(1000));
        assert_eq!(Earning::of("kim", 1_000_000, false), Earning::Points(1000));
        assert_eq!(Earning::of("kim", -5, false), Earning::Nothing);
        // Five 1-won purchases: 5 points, no credit.
        let mut account = account();
        for _ in 0..5 {
            let Earning::Points(p) = Earning::of("kim", 1, false) else {
                panic!("a paid purchase earns points")
            };
            assert!(!account.credit_purchase(p).free_vod_issued);
        }
        assert_eq!((account.points(), account.free_vod_credits()), (5, 0));
    }

    #[test]
    fn reversal_takes_points_back() {
        let mut account = account();
        account.credit_purchase(POINTS_PER_PURCHASE);
        let reversed = account.reverse_purchase(POINTS_PER_PURCHASE);
        assert_eq!((reversed.points, account.points()), (0, 0));
        assert!(!reversed.credit_revoked);
    }

    #[test]
    fn a_reversal_takes_an_unused_credit_back_first() {
        let mut account = account();
        for _ in 0..5 {
            account.credit_purchase(POINTS_PER_PURCHASE);
        }
        assert_eq!((account.points(), account.free_vod_credits()), (0, 1));
        let first = account.reverse_purchase(POINTS_PER_PURCHASE);
        assert_eq!((first.points, first.credit_revoked), (4000, true));
        assert_eq!(account.free_vod_credits(), 0);
        for left in [3000, 2000, 1000, 0] {
            let next = account.reverse_purchase(POINTS_PER_PURCHASE);
            assert_eq!((next.points, next.credit_revoked), (left, false));
        }
        assert_eq!((account.points(), account.free_vod_credits()), (0, 0));
    }

    #[test]
    fn a_spent_credit_leaves_a_debt_and_no_new_credit_until_paid_back() {
        let mut account = account();
        for _ in 0..5 {
            account.credit_purchase(POINTS_PER_PURCHASE);
        }
        assert_eq!(account.use_credit(), Spent::Credit);
        for left in [-1000, -2000, -3000, -4000, -5000] {
            let next = account.reverse_purchase(POINTS_PER_PURCHASE);
            assert_eq!((next.points, next.credit_revoked), (left, false));
        }
        // Ten more paid purchases: the debt first, then a credit.
        for _ in 0..9 {
            assert!(!account.credit_purchase(POINTS_PER_PURCHASE).free_vod_issued);
        }
        assert!(account.credit_purchase(POINTS_PER_PURCHASE).free_vod_issued);
        assert_eq!((account.points(), account.free_vod_credits()), (0, 1));
    }

    #[test]
    fn counts_saturate_on_the_wire() {
        assert_eq!(wire(5), 5);
        assert_eq!(wire(i64::MAX), i32::MAX);
        assert_eq!(wire(i64::MIN), i32::MIN);
    }
}
