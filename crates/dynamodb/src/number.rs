//! DynamoDB numbers: decimal text with up to 38 significant digits and a
//! magnitude between 1E-130 and 9.99…E+125, compared and added exactly.
//!
//! Arbitrary-precision arithmetic comes from `bigdecimal`; the canonical text
//! (no exponent, no leading/trailing zeros, what DynamoDB returns) is written
//! here because `BigDecimal`'s `Display` switches to scientific notation.

use std::{cmp::Ordering, str::FromStr};

use bigdecimal::{BigDecimal, Zero};
use wsflow_aws_wire::ServiceError;

fn not_a_number() -> ServiceError {
    ServiceError::validation("A value provided cannot be converted into a number")
}

/// Whether `s` has the shape `[+-]digits[.digits][(e|E)[+-]digits]`.
fn well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - f;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e || i - e > 6 {
            return false;
        }
    }
    i == b.len()
}

fn parse(s: &str) -> Result<BigDecimal, ServiceError> {
    if !well_formed(s) {
        return Err(not_a_number());
    }
    BigDecimal::from_str(s).map_err(|_| not_a_number())
}

/// Validates a number and returns its canonical text.
pub fn canonical(s: &str) -> Result<String, ServiceError> {
    render(&parse(s)?)
}

/// Canonical text of a decimal, enforcing DynamoDB's precision and range.
pub fn render(d: &BigDecimal) -> Result<String, ServiceError> {
    if d.is_zero() {
        return Ok("0".into());
    }
    let (int, exp) = d.normalized().into_bigint_and_exponent();
    let negative = int < bigdecimal::num_bigint::BigInt::zero();
    let digits = int.magnitude().to_string();
    if digits.len() > 38 {
        return Err(ServiceError::validation(
            "Attempting to store more than 38 significant digits in a Number",
        ));
    }
    // value = digits × 10^-exp; adjusted exponent of the leading digit:
    let adjusted = digits.len() as i64 - 1 - exp;
    if adjusted > 125 {
        return Err(ServiceError::validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ));
    }
    if adjusted < -130 {
        return Err(ServiceError::validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ));
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if exp <= 0 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (-exp) as usize));
    } else {
        let exp = exp as usize;
        if digits.len() > exp {
            let (a, b) = digits.split_at(digits.len() - exp);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', exp - digits.len()));
            out.push_str(&digits);
        }
    }
    Ok(out)
}

/// Numeric comparison of two canonical numbers.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (BigDecimal::from_str(a), BigDecimal::from_str(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// `a + b` (or `a - b` when `subtract`), validated like a stored number.
pub fn add(a: &str, b: &str, subtract: bool) -> Result<String, ServiceError> {
    let (x, y) = (parse(a)?, parse(b)?);
    render(&if subtract { x - y } else { x + y })
}

/// Storage size of a number: one byte per two significant digits, plus one.
pub fn size(n: &str) -> usize {
    let digits = n
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|d| *d == b'0')
        .count();
    digits.div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises() {
        for (i, o) in [
            ("1", "1"),
            ("01.500", "1.5"),
            ("-0", "0"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("+7", "7"),
            (".5", "0.5"),
            ("-12.340", "-12.34"),
        ] {
            assert_eq!(canonical(i).unwrap(), o, "{i}");
        }
        for bad in ["", "abc", "1.2.3", "e5", "1e", " 1", "NaN", "Infinity"] {
            assert!(canonical(bad).is_err(), "{bad}");
        }
        assert!(canonical("123456789012345678901234567890123456789").is_err());
        assert!(canonical("1e126").is_err());
        assert!(canonical("1e-131").is_err());
    }

    #[test]
    fn adds_exactly() {
        assert_eq!(add("0.1", "0.2", false).unwrap(), "0.3");
        assert_eq!(add("5", "7", true).unwrap(), "-2");
        assert_eq!(compare("10", "9.99"), Ordering::Greater);
    }
}
