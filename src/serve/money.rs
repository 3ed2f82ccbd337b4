//! Money as integer minor units of the shop's currency: exact parsing of decimal strings,
//! never floats, with the currency's own number of decimals (JPY 0, USD 2, KWD 3).

/// Most decimals an ISO 4217 currency has (CLF and UYW have 4).
pub const MAX_EXPONENT: u8 = 4;

/// Largest amount anywhere (a price, a cost, a pinned price), in minor units: 10^15, ten
/// trillion dollars in cents. Every amount is checked against it where it enters (CSV, the
/// export, a call), so sums of a bundle's few items stay far inside `i64` and money
/// arithmetic cannot wrap.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// Whether `minor` is an amount the engine takes: 0 to [`MAX_AMOUNT`].
pub fn in_range(minor: i64) -> bool {
    (0..=MAX_AMOUNT).contains(&minor)
}

/// Why a money string or currency was rejected; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("empty amount")]
    Empty,
    #[error("amount {0:?} is not a decimal number like \"2.55\"")]
    Syntax(String),
    #[error("amount {text:?} has more than {exponent} decimal places (the currency's minor unit)")]
    TooPrecise { text: String, exponent: u8 },
    #[error("amount {0:?} is too large (at most 10^15 minor units)")]
    Overflow(String),
    #[error("currency {code:?} with {exponent} decimals is not an ISO 4217 code (three capital letters) with 0 to {MAX_EXPONENT} decimals")]
    Currency { code: String, exponent: u8 },
}

/// The shop's currency: its ISO 4217 code and minor-unit exponent, so every amount in an
/// export (integer minor units) reads as the shop meant it. Exports before format 7 state no
/// code and count hundredths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// Three capital letters, or empty where the export did not say.
    code: String,
    exponent: u8,
}

impl Default for Currency {
    /// US dollars: what a shop that names no currency is read in.
    fn default() -> Self {
        Self {
            code: "USD".into(),
            exponent: 2,
        }
    }
}

impl Currency {
    /// A currency from its code and exponent, checked for shape (the code's existence is
    /// checked where the exponent is looked up, natively).
    pub fn new(code: &str, exponent: u8) -> Result<Self, MoneyError> {
        let shaped = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !shaped || exponent > MAX_EXPONENT {
            return Err(MoneyError::Currency {
                code: code.to_string(),
                exponent,
            });
        }
        Ok(Self {
            code: code.to_string(),
            exponent,
        })
    }

    /// The currency of an export written before currencies were recorded: unnamed, in
    /// hundredths.
    pub fn unstated() -> Self {
        Self {
            code: String::new(),
            exponent: 2,
        }
    }

    /// The ISO 4217 code, where the export states one.
    pub fn code(&self) -> Option<&str> {
        Some(self.code.as_str()).filter(|c| !c.is_empty())
    }

    /// Decimals of the minor unit: 0 for JPY, 2 for USD, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Minor units in one major unit (10^exponent).
    pub fn unit(&self) -> i64 {
        10i64.pow(self.exponent as u32)
    }

    /// Parses a decimal amount in major units ("2.55", "-3", "0.5") exactly into minor units;
    /// more decimals than the currency has is an error, never rounded.
    pub fn parse(&self, text: &str) -> Result<i64, MoneyError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let syntax = || MoneyError::Syntax(text.to_string());
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(syntax());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(syntax());
        }
        if frac.len() > self.exponent as usize {
            return Err(MoneyError::TooPrecise {
                text: text.to_string(),
                exponent: self.exponent,
            });
        }
        let overflow = || MoneyError::Overflow(text.to_string());
        let whole_value: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        // Right-pad the fraction to the exponent: "2.5" in a 3-decimal currency is 2500.
        let frac_value = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(self.exponent as usize)
            .fold(0i64, |v, b| v * 10 + (b - b'0') as i64);
        let minor = whole_value
            .checked_mul(self.unit())
            .and_then(|v| v.checked_add(frac_value))
            .filter(|&v| v <= MAX_AMOUNT)
            .ok_or_else(overflow)?;
        Ok(if negative { -minor } else { minor })
    }

    /// Formats minor units as a major-unit decimal ("2.55", "1980", "1.990"), the inverse of
    /// [`Currency::parse`].
    pub fn format(&self, minor: i64) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let (abs, unit) = (minor.unsigned_abs(), self.unit() as u64);
        match self.exponent {
            0 => format!("{sign}{abs}"),
            e => format!("{sign}{}.{:0w$}", abs / unit, abs % unit, w = e as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_minor(text: &str) -> Result<i64, MoneyError> {
        Currency::default().parse(text)
    }

    fn format_minor(minor: i64) -> String {
        Currency::default().format(minor)
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_minor("2.55"), Ok(255));
        assert_eq!(parse_minor("2.5"), Ok(250));
        assert_eq!(parse_minor("2"), Ok(200));
        assert_eq!(parse_minor(".5"), Ok(50));
        assert_eq!(parse_minor("-0.01"), Ok(-1));
        assert_eq!(parse_minor(" 19.99 "), Ok(1999));
        // 0.1 + 0.2 style float traps do not exist here.
        assert_eq!(parse_minor("0.29"), Ok(29));
        assert_eq!(parse_minor("1234567.89"), Ok(123456789));
    }

    #[test]
    fn rejects_what_is_not_exact() {
        assert_eq!(parse_minor(""), Err(MoneyError::Empty));
        assert!(matches!(
            parse_minor("2.555"),
            Err(MoneyError::TooPrecise { exponent: 2, .. })
        ));
        assert!(matches!(
            parse_minor("1,000.00"),
            Err(MoneyError::Syntax(_))
        ));
        assert!(matches!(parse_minor("$3"), Err(MoneyError::Syntax(_))));
        assert!(matches!(parse_minor("1e3"), Err(MoneyError::Syntax(_))));
        assert!(matches!(parse_minor("2."), Err(MoneyError::Syntax(_))));
        assert!(matches!(parse_minor("."), Err(MoneyError::Syntax(_))));
        assert!(matches!(parse_minor("--1"), Err(MoneyError::Syntax(_))));
        assert!(matches!(
            parse_minor("99999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn formats_back() {
        for v in [0, 1, 99, 100, 255, -1, -250, 123456789] {
            assert_eq!(parse_minor(&format_minor(v)), Ok(v));
        }
        assert_eq!(format_minor(255), "2.55");
        assert_eq!(format_minor(-5), "-0.05");
    }

    #[test]
    fn follows_the_currency_exponent() {
        let jpy = Currency::new("JPY", 0).unwrap();
        let kwd = Currency::new("KWD", 3).unwrap();
        assert_eq!(jpy.parse("1980"), Ok(1980));
        assert!(matches!(
            jpy.parse("19.80"),
            Err(MoneyError::TooPrecise { exponent: 0, .. })
        ));
        assert_eq!(kwd.parse("2.5"), Ok(2500));
        assert_eq!(kwd.parse("0.005"), Ok(5));
        assert!(matches!(
            kwd.parse("1.2345"),
            Err(MoneyError::TooPrecise { .. })
        ));
        for v in [0, 1, 9, 10, 999, 1000, 1990, -5, -1001, 123456789] {
            assert_eq!(jpy.parse(&jpy.format(v)), Ok(v));
            assert_eq!(kwd.parse(&kwd.format(v)), Ok(v));
        }
        assert_eq!(jpy.format(1980), "1980");
        assert_eq!(kwd.format(1990), "1.990");
        assert_eq!(kwd.format(-5), "-0.005");
        assert_eq!((jpy.unit(), kwd.unit()), (1, 1000));
    }

    #[test]
    fn currencies_are_shaped_like_iso_4217() {
        assert!(Currency::new("usd", 2).is_err());
        assert!(Currency::new("EURO", 2).is_err());
        assert!(Currency::new("CLF", 4).is_ok());
        assert!(Currency::new("XXX", 5).is_err());
        assert_eq!(Currency::unstated().code(), None);
        assert_eq!(Currency::default().code(), Some("USD"));
    }
}
