//! Mileage rules: points per paid purchase and the free-VOD threshold.

/// Points credited for each paid purchase.
pub const POINTS_PER_PURCHASE: i64 = 1000;
/// Points that buy one free VOD.
pub const FREE_VOD_PRICE: i64 = 5000;

/// A customer's mileage account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub customer_id: String,
    pub points: i64,
    pub credits_issued: i64,
    pub credits_used: i64,
}

/// Why a credit cannot be spent or given back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CreditError {
    #[error("customer has no free-VOD credit to spend")]
    NoCredit,
    #[error("customer has no spent free-VOD credit to give back")]
    NothingSpent,
}

/// What crediting a paid purchase did.
#[derive(Debug, PartialEq, Eq)]
pub struct Credited {
    pub points: i64,
    /// A free-VOD credit was issued (5000 points deducted).
    pub free_vod_issued: bool,
}

impl Account {
    /// Free-VOD credits issued and not yet used.
    pub fn free_vod_credits(&self) -> i64 {
        self.credits_issued - self.credits_used
    }

    /// Credits a paid purchase; converts 5000 points into a free-VOD credit.
    pub fn credit_purchase(&mut self) -> Credited {
        self.points += POINTS_PER_PURCHASE;
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
    pub fn reverse_purchase(&mut self, points: i64) {
        self.points -= points;
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

#[cfg(test)]
mod tests {
    use super::*;

    impl Account {
        fn new(customer_id: &str) -> Account {
            Account {
                customer_id: customer_id.to_owned(),
                ..Account::default()
            }
        }
    }

    #[test]
    fn fifth_purchase_issues_a_free_vod() {
        let mut account = Account::new("kim");
        for _ in 0..4 {
            assert!(!account.credit_purchase().free_vod_issued);
        }
        assert_eq!(
            account.credit_purchase(),
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
        let mut account = Account::new("kim");
        assert_eq!(account.use_credit(), Err(CreditError::NoCredit));
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 0);
        for _ in 0..5 {
            account.credit_purchase();
        }
        account.use_credit().unwrap();
        assert_eq!(account.use_credit(), Err(CreditError::NoCredit));
        account.restore_credit().unwrap();
        assert_eq!(account.restore_credit(), Err(CreditError::NothingSpent));
        assert_eq!(account.free_vod_credits(), 1);
    }

    #[test]
    fn reversal_takes_points_back() {
        let mut account = Account::new("kim");
        account.credit_purchase();
        account.reverse_purchase(POINTS_PER_PURCHASE);
        assert_eq!(account.points, 0);
    }
}
