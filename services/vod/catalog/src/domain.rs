//! The catalog's rules: what a registrable VOD is.

/// Price of a VOD registered without one, in won.
pub const DEFAULT_PRICE: i64 = 1000;
/// Highest price a VOD may have, in won: far above any title's (the seed's are 1000 and
/// 1500), and small enough that any sum of a customer's purchases stays a sane number.
pub const MAX_PRICE: i64 = 1_000_000;

/// A price in won, within `0..=MAX_PRICE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(i32);

impl Price {
    pub fn new(won: i64) -> Result<Price, CatalogError> {
        if won < 0 {
            return Err(CatalogError::NegativePrice);
        }
        if won > MAX_PRICE {
            return Err(CatalogError::PriceTooHigh);
        }
        // In range: at most MAX_PRICE, which fits.
        Ok(Price(
            i32::try_from(won).map_err(|_| CatalogError::PriceTooHigh)?,
        ))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vod {
    id: String,
    name: String,
    price: Price,
}

/// Raised by a registration (`VodRegistered`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub id: String,
    pub name: String,
    pub price: Price,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("is required")]
    MissingName,
    #[error("must be at most 200 characters")]
    NameTooLong,
    #[error("must not be negative")]
    NegativePrice,
    #[error("must be at most 1000000")]
    PriceTooHigh,
}

impl CatalogError {
    pub fn field(&self) -> &'static str {
        match self {
            CatalogError::MissingName | CatalogError::NameTooLong => "vod_name",
            CatalogError::NegativePrice | CatalogError::PriceTooHigh => "price",
        }
    }
}

impl Vod {
    /// Registers a VOD under `id` (client-chosen or assigned by the caller).
    pub fn register(
        id: String,
        name: &str,
        price: Option<i64>,
    ) -> Result<(Vod, Registered), CatalogError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogError::MissingName);
        }
        if name.chars().count() > 200 {
            return Err(CatalogError::NameTooLong);
        }
        let price = Price::new(price.unwrap_or(DEFAULT_PRICE))?;
        let vod = Vod {
            id,
            name: name.to_owned(),
            price,
        };
        let registered = Registered {
            id: vod.id.clone(),
            name: vod.name.clone(),
            price,
        };
        Ok((vod, registered))
    }

    /// A VOD as stored.
    pub fn restore(id: String, name: String, price: Price) -> Vod {
        Vod { id, name, price }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn price(&self) -> Price {
        self.price
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_with_default_price() {
        let (vod, registered) = Vod::register("3".into(), " GoGo ", None).unwrap();
        assert_eq!(
            (vod.name(), i64::from(vod.price().get())),
            ("GoGo", DEFAULT_PRICE)
        );
        assert_eq!(registered.price, vod.price());
    }

    #[test]
    fn rejects_blank_name_and_negative_price() {
        assert_eq!(
            Vod::register("3".into(), "  ", None).unwrap_err(),
            CatalogError::MissingName
        );
        assert_eq!(
            Vod::register("3".into(), "x", Some(-1)).unwrap_err(),
            CatalogError::NegativePrice
        );
    }

    #[test]
    fn price_is_bounded() {
        assert!(Vod::register("3".into(), "x", Some(MAX_PRICE)).is_ok());
        assert_eq!(
            Vod::register("3".into(), "x", Some(MAX_PRICE + 1)).unwrap_err(),
            CatalogError::PriceTooHigh
        );
    }
}
