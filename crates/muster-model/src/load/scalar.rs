//! How plain (unquoted) YAML scalars become JSON values: the YAML 1.2 core schema.
//!
//! The loader uses [`resolve_plain`] to type plain scalars; the canonical writer uses the same
//! function to decide which strings must be quoted so that they read back as strings.

use serde_json::{Number, Value};

/// What a plain scalar means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plain {
    Value(Value),
    /// A number JSON cannot hold (`.inf`, `.nan`, or an integer beyond 64 bits).
    Unrepresentable(&'static str),
}

/// Types a plain scalar by the YAML 1.2 core schema: null, booleans, integers (decimal, `0o`
/// octal, `0x` hex), floats (including `.inf` and `.nan`); anything else is a string.
pub(crate) fn resolve_plain(text: &str) -> Plain {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Value(Value::Null),
        "true" | "True" | "TRUE" => return Plain::Value(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Plain::Value(Value::Bool(false)),
        _ => {}
    }
    if let Some(result) = resolve_integer(text) {
        return result;
    }
    if let Some(result) = resolve_float(text) {
        return result;
    }
    Plain::Value(Value::String(text.to_string()))
}

/// Whether `text` is a core-schema integer, and its value.
fn resolve_integer(text: &str) -> Option<Plain> {
    const TOO_LARGE: &str = "integers must fit in 64 bits";
    let (radix, digits, negative) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex, false)
    } else if let Some(octal) = text.strip_prefix("0o") {
        (8, octal, false)
    } else if let Some(rest) = text.strip_prefix('-') {
        (10, rest, true)
    } else {
        (10, text.strip_prefix('+').unwrap_or(text), false)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = match u128::from_str_radix(digits, radix) {
        Ok(m) => m,
        Err(_) => return Some(Plain::Unrepresentable(TOO_LARGE)),
    };
    let number = if negative {
        let signed = i128::try_from(magnitude).ok().map(|m| -m);
        match signed.and_then(|s| i64::try_from(s).ok()) {
            Some(value) => Number::from(value),
            None => return Some(Plain::Unrepresentable(TOO_LARGE)),
        }
    } else {
        match u64::try_from(magnitude) {
            Ok(value) => Number::from(value),
            Err(_) => return Some(Plain::Unrepresentable(TOO_LARGE)),
        }
    };
    Some(Plain::Value(Value::Number(number)))
}

/// Whether `text` is a core-schema float
/// (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `.inf`, `.nan`), and its value.
fn resolve_float(text: &str) -> Option<Plain> {
    let unsigned = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(Plain::Unrepresentable("JSON has no infinity or NaN"));
    }
    if !is_core_float(unsigned) {
        return None;
    }
    let parsed: f64 = text.parse().ok()?;
    match Number::from_f64(parsed) {
        Some(n) if parsed.is_finite() => Some(Plain::Value(Value::Number(n))),
        _ => Some(Plain::Unrepresentable(
            "the number is too large for a 64-bit float",
        )),
    }
}

/// The unsigned part of the core float pattern.
fn is_core_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match fraction {
        // `.5` needs fraction digits; `5.` and `5.5` need whole digits.
        Some(f) if whole.is_empty() => !f.is_empty() && digits(f),
        Some(f) => digits(whole) && digits(f),
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some() || !whole.is_empty())
}

/// Formats a number so that [`resolve_plain`] reads back the same `Number`: integers as
/// digits, floats always with a `.` or an exponent (`1.0`, `1e300`), shortest round-trip form.
pub(crate) fn format_number(number: &Number) -> String {
    if let Some(i) = number.as_i64() {
        return i.to_string();
    }
    if let Some(u) = number.as_u64() {
        return u.to_string();
    }
    // `{:?}` prints the shortest text that parses back to the same f64 and keeps a `.0` or
    // an exponent, which is what keeps it a float on reading.
    number
        .as_f64()
        .map_or_else(|| number.to_string(), |f| format!("{f:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        match resolve_plain(text) {
            Plain::Value(v) => v,
            Plain::Unrepresentable(why) => panic!("{text}: {why}"),
        }
    }

    #[test]
    fn core_schema() {
        assert_eq!(value(""), Value::Null);
        assert_eq!(value("~"), Value::Null);
        assert_eq!(value("True"), json!(true));
        assert_eq!(value("yes"), json!("yes"));
        assert_eq!(value("42"), json!(42));
        assert_eq!(value("-42"), json!(-42));
        assert_eq!(value("+7"), json!(7));
        assert_eq!(value("0x1F"), json!(31));
        assert_eq!(value("0o17"), json!(15));
        assert_eq!(value("007"), json!(7));
        assert_eq!(value("18446744073709551615"), json!(u64::MAX));
        assert_eq!(value("1.5"), json!(1.5));
        assert_eq!(value(".5"), json!(0.5));
        assert_eq!(value("5."), json!(5.0));
        assert_eq!(value("1e3"), json!(1000.0));
        assert_eq!(value("-1.5E-3"), json!(-0.0015));
        for text in [
            "1.2.3", "10.0.0.1", "0x", "1e", "e5", ".", "-", "+", "1_000", "0b101", "12:30",
        ] {
            assert_eq!(value(text), json!(text), "{text}");
        }
        for text in [
            ".inf",
            "-.Inf",
            ".NaN",
            "18446744073709551616",
            "-9223372036854775809",
            "1e999",
        ] {
            assert!(
                matches!(resolve_plain(text), Plain::Unrepresentable(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_format_back_to_themselves() {
        for n in [
            json!(0),
            json!(-5),
            json!(u64::MAX),
            json!(1.0),
            json!(-0.0),
            json!(1e300),
            json!(1e-7),
            json!(0.1),
        ] {
            let Value::Number(number) = &n else {
                unreachable!()
            };
            assert_eq!(value(&format_number(number)), n, "{n}");
        }
    }
}
