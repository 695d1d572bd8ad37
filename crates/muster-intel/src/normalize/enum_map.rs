//! Enum maps: translate source values to target values (`High` → `4`), with numeric ranges
//! for scores (`"7..9": 4`).
//!
//! A value is looked up by its text: first exactly, then ignoring ASCII case, then against the
//! ranges in the order written (`a..b` holds `a <= x < b`; either end may be left open).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::coerce::preview;
use super::path::scalar_text;

/// A translation table from source values to target values.
#[derive(Debug, Clone, Default)]
pub struct EnumMap {
    exact: Vec<(String, Value)>,
    ranges: Vec<(Option<f64>, Option<f64>, Value)>,
}

impl EnumMap {
    /// The target value for `value`; arrays are translated element by element.
    pub(crate) fn translate(&self, value: &Value) -> Result<Value, String> {
        if let Value::Array(items) = value {
            return items
                .iter()
                .map(|item| self.translate_scalar(item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        self.translate_scalar(value)
    }

    fn translate_scalar(&self, value: &Value) -> Result<Value, String> {
        let Some(text) = scalar_text(value) else {
            return Err(format!(
                "cannot look up {} in the map",
                super::path::json_type(value)
            ));
        };
        if let Some((_, target)) = self.exact.iter().find(|(key, _)| *key == text) {
            return Ok(target.clone());
        }
        if let Some((_, target)) = self
            .exact
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(&text))
        {
            return Ok(target.clone());
        }
        let number = match value {
            Value::Number(number) => number.as_f64(),
            _ => text.trim().parse::<f64>().ok(),
        };
        if let Some(number) = number.filter(|n| n.is_finite()) {
            let in_range = |(low, high, _): &&(Option<f64>, Option<f64>, Value)| {
                low.is_none_or(|low| number >= low) && high.is_none_or(|high| number < high)
            };
            if let Some((_, _, target)) = self.ranges.iter().find(in_range) {
                return Ok(target.clone());
            }
        }
        Err(format!("`{}` is not in the map", preview(&text)))
    }

    fn insert(&mut self, key: String, target: Value) -> Result<(), String> {
        if let Some((low, high)) = key.split_once("..") {
            let bound = |text: &str| -> Result<Option<f64>, String> {
                let text = text.trim();
                if text.is_empty() {
                    Ok(None)
                } else {
                    text.parse::<f64>()
                        .map(Some)
                        .map_err(|_| format!("range `{key}` has a bound that is not a number"))
                }
            };
            let (low, high) = (bound(low)?, bound(high)?);
            if let (Some(low), Some(high)) = (low, high)
                && low >= high
            {
                return Err(format!("range `{key}` is empty"));
            }
            self.ranges.push((low, high, target));
        } else {
            if self.exact.iter().any(|(existing, _)| *existing == key) {
                return Err(format!("the map lists `{key}` twice"));
            }
            self.exact.push((key, target));
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for EnumMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnumMapVisitor)
    }
}

struct EnumMapVisitor;

impl<'de> Visitor<'de> for EnumMapVisitor {
    type Value = EnumMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map from source values to target values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<EnumMap, A::Error> {
        let mut map = EnumMap::default();
        while let Some(ScalarKey(key)) = access.next_key()? {
            let target: Value = access.next_value()?;
            map.insert(key, target).map_err(de::Error::custom)?;
        }
        Ok(map)
    }
}

/// A map key written as any scalar (`1:`, `High:`, `true:`), kept as text.
struct ScalarKey(String);

impl<'de> Deserialize<'de> for ScalarKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = ScalarKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text, number or boolean key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarKey, E> {
                Ok(ScalarKey(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarKey, E> {
                Ok(ScalarKey(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarKey, E> {
                Ok(ScalarKey(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarKey, E> {
                Ok(ScalarKey(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarKey, E> {
                Ok(ScalarKey(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(entries: &[(&str, Value)]) -> EnumMap {
        let mut map = EnumMap::default();
        for (key, value) in entries {
            map.insert((*key).to_owned(), value.clone()).unwrap();
        }
        map
    }

    #[test]
    fn exact_then_case_insensitive_then_ranges() {
        let severity = map(&[
            ("High", json!(4)),
            ("high", json!(40)),
            ("1", json!(5)),
            ("0..4", json!(2)),
            ("4..7", json!(3)),
            ("9..", json!(5)),
        ]);
        assert_eq!(severity.translate(&json!("high")), Ok(json!(40)));
        assert_eq!(severity.translate(&json!("HIGH")), Ok(json!(4)));
        assert_eq!(severity.translate(&json!(1)), Ok(json!(5)));
        assert_eq!(severity.translate(&json!(3.9)), Ok(json!(2)));
        assert_eq!(severity.translate(&json!("4")), Ok(json!(3)));
        assert_eq!(severity.translate(&json!(10)), Ok(json!(5)));
        assert!(severity.translate(&json!(8)).is_err());
        assert!(severity.translate(&json!("Extreme")).is_err());
        assert_eq!(severity.translate(&json!(["High", 5])), Ok(json!([4, 3])));
    }

    #[test]
    fn rejects_bad_keys() {
        let mut bad = EnumMap::default();
        assert!(bad.insert("a..b".into(), json!(1)).is_err());
        assert!(bad.insert("5..1".into(), json!(1)).is_err());
        bad.insert("x".into(), json!(1)).unwrap();
        assert!(bad.insert("x".into(), json!(2)).is_err());
    }
}
