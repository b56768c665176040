//! The catalog's rules: what a registrable VOD is.

/// Price of a VOD registered without one, in won.
pub const DEFAULT_PRICE: i64 = 1000;
/// Highest price a VOD may have, in won: far above any title's (the seed's are 1000 and
/// 1500), and small enough that any sum of a customer's purchases stays a sane number.
pub const MAX_PRICE: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vod {
    pub id: String,
    pub name: String,
    pub price: i64,
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
    pub fn register(id: String, name: &str, price: Option<i64>) -> Result<Vod, CatalogError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogError::MissingName);
        }
        if name.chars().count() > 200 {
            return Err(CatalogError::NameTooLong);
        }
        let price = price.unwrap_or(DEFAULT_PRICE);
        if price < 0 {
            return Err(CatalogError::NegativePrice);
        }
        if price > MAX_PRICE {
            return Err(CatalogError::PriceTooHigh);
        }
        Ok(Vod {
            id,
            name: name.to_owned(),
            price,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_with_default_price() {
        let vod = Vod::register("3".into(), " GoGo ", None).unwrap();
        assert_eq!((vod.name.as_str(), vod.price), ("GoGo", DEFAULT_PRICE));
    }

    #[test]
    fn rejects_blank_name_and_negative_price() {
        assert_eq!(
            Vod::register("3".into(), "  ", None),
            Err(CatalogError::MissingName)
        );
        assert_eq!(
            Vod::register("3".into(), "x", Some(-1)),
            Err(CatalogError::NegativePrice)
        );
    }

    #[test]
    fn price_is_bounded() {
        assert!(Vod::register("3".into(), "x", Some(MAX_PRICE)).is_ok());
        assert_eq!(
            Vod::register("3".into(), "x", Some(MAX_PRICE + 1)),
            Err(CatalogError::PriceTooHigh)
        );
    }
}
