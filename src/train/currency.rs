//! The shop's currency from its ISO 4217 code: the minor-unit exponent comes from the standard's
//! table, so a JPY shop counts whole yen and a KWD shop thousandths of a dinar.

use crate::serve::money::Currency;

/// The currency an ISO 4217 code names (any case), with its minor-unit exponent; an unknown
/// code, or one without a minor unit (gold, "no currency"), is an error saying so.
pub fn iso_4217(code: &str) -> Result<Currency, String> {
    let upper = code.trim().to_ascii_uppercase();
    let known = iso_currency::Currency::from_code(&upper)
        .ok_or_else(|| format!("currency {code:?} is not an ISO 4217 code (like USD, EUR, JPY)"))?;
    let exponent = known.exponent().ok_or_else(|| {
        format!(
            "currency {upper} ({}) has no minor unit to price in",
            known.name()
        )
    })?;
    Currency::new(&upper, exponent as u8).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_the_standard() {
        let exponent = |code| iso_4217(code).map(|c| c.exponent());
        assert_eq!(exponent("USD"), Ok(2));
        assert_eq!(exponent("jpy"), Ok(0));
        assert_eq!(exponent("KWD"), Ok(3));
        assert_eq!(exponent("CLF"), Ok(4));
        assert!(iso_4217("XYZ")
            .unwrap_err()
            .contains("not an ISO 4217 code"));
        assert!(iso_4217("XAU").unwrap_err().contains("no minor unit"));
    }
}
