//! Links between actions, written `a -> b` (port `out`) or `a.port -> b`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A directed edge from one action's port to another action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub from: String,
    pub port: String,
    pub to: String,
}

/// The port every action has.
pub const DEFAULT_PORT: &str = "out";
/// The port failed executions are delivered to when it is linked.
pub const ERROR_PORT: &str = "error";

/// Why a link string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid link {input:?}: {reason} (write it as `from -> to` or `from.port -> to`)")]
pub struct LinkSyntaxError {
    pub input: String,
    pub reason: &'static str,
}

fn is_slug(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FromStr for Link {
    type Err = LinkSyntaxError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| LinkSyntaxError {
            input: input.to_string(),
            reason,
        };
        let (left, right) = input.split_once("->").ok_or_else(|| err("missing `->`"))?;
        let (left, to) = (left.trim(), right.trim());
        let (from, port) = match left.split_once('.') {
            Some((from, port)) => (from.trim(), port.trim()),
            None => (left, DEFAULT_PORT),
        };
        if !is_slug(from) {
            return Err(err("the source is not an action id"));
        }
        if !is_slug(port) {
            return Err(err("the port is not a valid port name"));
        }
        if !is_slug(to) {
            return Err(err("the target is not an action id"));
        }
        Ok(Link {
            from: from.to_string(),
            port: port.to_string(),
            to: to.to_string(),
        })
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.port == DEFAULT_PORT {
            write!(f, "{} -> {}", self.from, self.to)
        } else {
            write!(f, "{}.{} -> {}", self.from, self.port, self.to)
        }
    }
}

impl Serialize for Link {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Link {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Link".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`from -> to` (port `out`) or `from.port -> to`.",
            "type": "string",
            "pattern": "^\\s*[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?\\s*->\\s*[a-z_][a-z0-9_]*\\s*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_default_and_named_ports() {
        let l: Link = "alert -> normalize".parse().unwrap();
        assert_eq!(
            (l.from.as_str(), l.port.as_str(), l.to.as_str()),
            ("alert", "out", "normalize")
        );
        let l: Link = "check.true->block".parse().unwrap();
        assert_eq!(
            (l.from.as_str(), l.port.as_str(), l.to.as_str()),
            ("check", "true", "block")
        );
        assert_eq!(l.to_string(), "check.true -> block");
    }

    #[test]
    fn rejects_malformed_links() {
        for bad in ["a b", "-> b", "a ->", "A -> b", "a.B -> c", "a.b.c -> d"] {
            assert!(bad.parse::<Link>().is_err(), "{bad}");
        }
    }
}
