//! Type coercions: the last step of a field's pipeline, turning a source value into the type
//! the target field wants.
//!
//! Applied to an array, every coercion except `list` applies to each element.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Number, Value};

use super::path::json_type;
use super::timestamp;

/// A named conversion of a value to a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coercion {
    /// An IPv4 or IPv6 address in canonical text; brackets, ports and zone ids are removed.
    Ip,
    /// An integer; accepts numbers without fraction, decimal text and `0x` hexadecimal text.
    Int,
    /// A finite number.
    Float,
    /// `true`/`false`; also `yes`/`no`, `on`/`off`, `y`/`n`, `1`/`0` (any case).
    Bool,
    /// Text; numbers and booleans are written as JSON writes them.
    String,
    /// RFC 3339 text in UTC, from any format the timestamp reader knows.
    Timestamp,
    /// Milliseconds since the Unix epoch (OCSF's `timestamp_t`), from the same formats.
    EpochMs,
    /// Lower-case text.
    Lower,
    /// Upper-case text.
    Upper,
    /// An array: arrays stay, other values become a one-element array.
    List,
}

impl Coercion {
    /// Applies the coercion; the error says what the value was and what was expected.
    pub(crate) fn apply(self, value: Value, reference: DateTime<Utc>) -> Result<Value, String> {
        match (self, value) {
            (Coercion::List, Value::Array(items)) => Ok(Value::Array(items)),
            (Coercion::List, other) => Ok(Value::Array(vec![other])),
            (coercion, Value::Array(items)) => items
                .into_iter()
                .map(|item| coercion.apply_scalar(item, reference))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            (coercion, other) => coercion.apply_scalar(other, reference),
        }
    }

    fn apply_scalar(self, value: Value, reference: DateTime<Utc>) -> Result<Value, String> {
        match self {
            Coercion::Ip => to_ip(&value),
            Coercion::Int => to_int(&value),
            Coercion::Float => to_float(&value),
            Coercion::Bool => to_bool(&value),
            Coercion::String => to_text(&value).map(Value::String),
            Coercion::Timestamp => timestamp::parse(&value, reference)
                .map(|instant| Value::String(timestamp::to_rfc3339(instant))),
            Coercion::EpochMs => timestamp::parse(&value, reference)
                .map(|instant| Value::from(instant.timestamp_millis())),
            Coercion::Lower => to_text(&value).map(|text| Value::String(text.to_lowercase())),
            Coercion::Upper => to_text(&value).map(|text| Value::String(text.to_uppercase())),
            Coercion::List => Ok(Value::Array(vec![value])),
        }
    }
}

fn to_text(value: &Value) -> Result<String, String> {
    super::path::scalar_text(value)
        .ok_or_else(|| format!("expected text, got {}", json_type(value)))
}

fn to_ip(value: &Value) -> Result<Value, String> {
    let Value::String(raw) = value else {
        return Err(format!("expected an IP address, got {}", json_type(value)));
    };
    let text = raw.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Value::String(ip.to_string()));
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Ok(Value::String(socket.ip().to_string()));
    }
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    let without_zone = unbracketed.split('%').next().unwrap_or(unbracketed);
    without_zone
        .parse::<IpAddr>()
        .map(|ip| Value::String(ip.to_string()))
        .map_err(|_| format!("`{}` is not an IP address", preview(text)))
}

fn to_int(value: &Value) -> Result<Value, String> {
    match value {
        Value::Number(number) => {
            if number.is_i64() || number.is_u64() {
                Ok(Value::Number(number.clone()))
            } else {
                let real = number.as_f64().unwrap_or(f64::NAN);
                if real.fract() == 0.0 && real.abs() < 9.0e15 {
                    Ok(Value::from(real as i64))
                } else {
                    Err(format!("{number} is not a whole number"))
                }
            }
        }
        Value::String(raw) => {
            let text = raw.trim();
            let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
            let parsed = match hex {
                Some(digits) => i64::from_str_radix(digits, 16)
                    .map(Value::from)
                    .or_else(|_| u64::from_str_radix(digits, 16).map(Value::from)),
                None => text
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| text.parse::<u64>().map(Value::from)),
            };
            parsed.map_err(|_| format!("`{}` is not an integer", preview(text)))
        }
        Value::Bool(flag) => Ok(Value::from(i64::from(*flag))),
        other => Err(format!("expected an integer, got {}", json_type(other))),
    }
}

fn to_float(value: &Value) -> Result<Value, String> {
    let real = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    real.and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| match value {
            Value::String(text) => format!("`{}` is not a number", preview(text)),
            other => format!("expected a number, got {}", json_type(other)),
        })
}

fn to_bool(value: &Value) -> Result<Value, String> {
    match value {
        Value::Bool(flag) => Ok(Value::Bool(*flag)),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Ok(Value::Bool(false)),
            Some(1.0) => Ok(Value::Bool(true)),
            _ => Err(format!("{number} is not a boolean (only 0 and 1 are)")),
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{}` is not a boolean", preview(text))),
        },
        other => Err(format!("expected a boolean, got {}", json_type(other))),
    }
}

/// The start of a long text, for messages.
pub(crate) fn preview(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT {
        text.to_owned()
    } else {
        let start: String = text.chars().take(LIMIT).collect();
        format!("{start}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn run(coercion: Coercion, value: Value) -> Result<Value, String> {
        coercion.apply(value, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap())
    }

    #[test]
    fn ip_canonicalises_and_strips_ports_and_zones() {
        assert_eq!(
            run(Coercion::Ip, json!(" 10.0.0.1 ")),
            Ok(json!("10.0.0.1"))
        );
        assert_eq!(
            run(Coercion::Ip, json!("10.0.0.1:443")),
            Ok(json!("10.0.0.1"))
        );
        assert_eq!(
            run(Coercion::Ip, json!("[2001:DB8::1]:443")),
            Ok(json!("2001:db8::1"))
        );
        assert_eq!(
            run(Coercion::Ip, json!("fe80::1%eth0")),
            Ok(json!("fe80::1"))
        );
        assert_eq!(
            run(Coercion::Ip, json!("::ffff:10.0.0.5")),
            Ok(json!("::ffff:10.0.0.5"))
        );
        assert!(run(Coercion::Ip, json!("1.2.3.999")).is_err());
        assert!(run(Coercion::Ip, json!(17)).is_err());
        assert_eq!(
            run(Coercion::Ip, json!(["10.0.0.1", "::1"])),
            Ok(json!(["10.0.0.1", "::1"]))
        );
    }

    #[test]
    fn int_float_bool() {
        assert_eq!(run(Coercion::Int, json!("0x1a2c")), Ok(json!(6700)));
        assert_eq!(run(Coercion::Int, json!(" 443 ")), Ok(json!(443)));
        assert_eq!(run(Coercion::Int, json!(3.0)), Ok(json!(3)));
        assert!(run(Coercion::Int, json!(3.5)).is_err());
        assert!(run(Coercion::Int, json!("12abc")).is_err());
        assert_eq!(run(Coercion::Float, json!("7.5")), Ok(json!(7.5)));
        assert!(run(Coercion::Float, json!("NaN")).is_err());
        assert_eq!(run(Coercion::Bool, json!("Yes")), Ok(json!(true)));
        assert_eq!(run(Coercion::Bool, json!(0)), Ok(json!(false)));
        assert!(run(Coercion::Bool, json!("maybe")).is_err());
    }

    #[test]
    fn text_times_and_lists() {
        assert_eq!(run(Coercion::String, json!(42)), Ok(json!("42")));
        assert!(run(Coercion::String, json!({"a": 1})).is_err());
        assert_eq!(run(Coercion::Lower, json!("TCP")), Ok(json!("tcp")));
        assert_eq!(run(Coercion::Upper, json!("tcp")), Ok(json!("TCP")));
        assert_eq!(
            run(Coercion::Timestamp, json!(1705314093)),
            Ok(json!("2024-01-15T10:21:33Z"))
        );
        assert_eq!(
            run(Coercion::EpochMs, json!("2024-01-15T10:21:33.123Z")),
            Ok(json!(1705314093123_i64))
        );
        assert_eq!(run(Coercion::List, json!("a")), Ok(json!(["a"])));
        assert_eq!(run(Coercion::List, json!(["a"])), Ok(json!(["a"])));
    }
}
