//! Money as integer minor units (cents): exact parsing of decimal strings, never floats.

/// Minor units per major unit; the CSV contract fixes two decimal places.
pub const MINOR_PER_MAJOR: i64 = 100;

/// Why a money string was rejected; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("empty amount")]
    Empty,
    #[error("amount {0:?} is not a decimal number like \"2.55\"")]
    Syntax(String),
    #[error("amount {0:?} has more than 2 decimal places")]
    TooPrecise(String),
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

/// Parses a decimal amount in major units ("2.55", "-3", "0.5") exactly into minor units.
pub fn parse_minor(text: &str) -> Result<i64, MoneyError> {
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
    if frac.len() > 2 {
        return Err(MoneyError::TooPrecise(text.to_string()));
    }
    let overflow = || MoneyError::Overflow(text.to_string());
    let whole_value: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| overflow())?
    };
    let frac_value: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| syntax())? * 10,
        _ => frac.parse().map_err(|_| syntax())?,
    };
    let minor = whole_value
        .checked_mul(MINOR_PER_MAJOR)
        .and_then(|v| v.checked_add(frac_value))
        .ok_or_else(overflow)?;
    Ok(if negative { -minor } else { minor })
}

/// Formats minor units as a major-unit decimal ("2.55"), the inverse of [`parse_minor`].
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(MoneyError::TooPrecise(_))
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
}
