//! Human-readable durations in playbooks and settings: `500ms`, `30s`, `5m`, `2h`, `7d`,
//! and combinations such as `1h30m`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written the way people write them. Serialises back to its canonical form.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (write it like 500ms, 30s, 5m, 2h, 7d or 1h30m)")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl HumanDuration {
    pub fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub fn as_duration(&self) -> Duration {
        self.0
    }

    pub fn as_millis(&self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(err("expected a number"));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| err("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            let millis = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "" => return Err(err("missing unit")),
                _ => return Err(err("unknown unit")),
            };
            total = number
                .checked_mul(millis)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("duration too large"))?;
            rest = &rest[unit_len..];
        }
        Ok(Self(Duration::from_millis(total)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut millis = self.as_millis();
        if millis == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            if millis >= size {
                write!(f, "{}{}", millis / size, unit)?;
                millis %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Seconds(u64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
            Raw::Seconds(secs) => Ok(Self::from_secs(secs)),
        }
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration such as 500ms, 30s, 5m, 2h, 7d or 1h30m (or a number of seconds).",
            "oneOf": [
                { "type": "string", "pattern": "^([0-9]+(ms|s|m|h|d))+$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        for (text, millis, canon) in [
            ("500ms", 500, "500ms"),
            ("30s", 30_000, "30s"),
            ("90s", 90_000, "1m30s"),
            ("1h30m", 5_400_000, "1h30m"),
            ("7d", 604_800_000, "7d"),
        ] {
            let d: HumanDuration = text.parse().unwrap();
            assert_eq!(d.as_millis(), millis, "{text}");
            assert_eq!(d.to_string(), canon, "{text}");
        }
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        for bad in ["", "5", "m", "5x", "5 m", "99999999999999999999d"] {
            let err = bad.parse::<HumanDuration>().unwrap_err();
            assert!(err.to_string().contains("invalid duration"), "{bad}: {err}");
        }
    }
}
