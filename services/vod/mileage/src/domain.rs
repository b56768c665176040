//! Mileage rules: what a payment earns, points per paid purchase and the free-VOD threshold.

/// Points credited for each paid purchase.
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
    pub fn of(customer_id: &str, amount: i64, free_vod: bool) -> Earning {
        match (customer_id.is_empty(), free_vod, amount) {
            (true, _, _) => Earning::Nothing,
            (false, true, _) => Earning::SpendsCredit,
            (false, false, 0) => Earning::Nothing,
            (false, false, _) => Earning::Points(POINTS_PER_PURCHASE),
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
    #[error("customer has no free-VOD credit to spend")]
    NoCredit,
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

/// Raised by taking a cancelled purchase's points back (`MileageReversed`).
#[derive(Debug, PartialEq, Eq)]
pub struct Reversed {
    /// The balance after it.
    pub points: i64,
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

    /// Takes back the points of a cancelled purchase. The balance may go below zero when the
    /// points were already spent on a free VOD; later purchases pay that back first.
    pub fn reverse_purchase(&mut self, points: i64) -> Reversed {
        self.points -= points;
        Reversed {
            points: self.points,
        }
    }

    /// Spends a free-VOD credit. The balance never goes below zero: a credit that was never
    /// issued cannot be spent.
    pub fn use_credit(&mut self) -> Result<(), CreditError> {
        if self.free_vod_credits() <= 0 {
            return Err(CreditError::NoCredit);
        }
        self.credits_used += 1;
        Ok(())
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
        account.use_credit().unwrap();
        assert_eq!(account.free_vod_credits(), 0);
    }

    #[test]
    fn credits_never_go_negative() {
        let mut account = account();
        assert_eq!(account.use_credit(), Err(CreditError::NoCredit));
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 0);
        for _ in 0..5 {
            account.credit_purchase(POINTS_PER_PURCHASE);
        }
        account.use_credit().unwrap();
        assert_eq!(account.use_credit(), Err(CreditError::NoCredit));
        account.restore_credit().unwrap();
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 1);
    }

    #[test]
    fn reversal_takes_points_back() {
        let mut account = account();
        account.credit_purchase(POINTS_PER_PURCHASE);
        let reversed = account.reverse_purchase(POINTS_PER_PURCHASE);
        assert_eq!((reversed.points, account.points()), (0, 0));
    }

    #[test]
    fn counts_saturate_on_the_wire() {
        assert_eq!(wire(5), 5);
        assert_eq!(wire(i64::MAX), i32::MAX);
        assert_eq!(wire(i64::MIN), i32::MIN);
    }
}
