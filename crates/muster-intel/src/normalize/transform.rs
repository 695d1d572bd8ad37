//! The closed set of transforms a field may apply to its source value before the enum map and
//! the coercion.
//!
//! Mappings sit below the expression layer, so computed values come from this small fixed list
//! rather than from templates. Text transforms applied to an array apply to each element.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::coerce::preview;
use super::path::{TargetPath, json_type};

/// Compiled size limit for patterns, so that a mapping cannot build a huge automaton.
const MAX_PATTERN_SIZE: usize = 1 << 20;

/// One transform step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Removes leading and trailing whitespace.
    Trim,
    /// The last component of a Windows or POSIX path (`C:\Windows\cmd.exe` → `cmd.exe`).
    Basename,
    /// Everything before the last path separator (`C:\Windows\cmd.exe` → `C:\Windows`).
    Dirname,
    /// The first element of an array (other values pass unchanged).
    First,
    /// Splits text on a separator into a list of trimmed, non-empty parts.
    Split(String),
    /// Joins a list of scalars with a separator.
    Join(String),
    /// The first capture group of a regular expression (the whole match when it has no group);
    /// a value that does not match gives no value.
    Extract(Pattern),
    /// Replaces every match of a regular expression; `$1` in `with` inserts a group.
    Replace(Replacement),
    /// Turns each element of a list (or a single value) into an object holding it at a path:
    /// `[T1059]` with `technique.uid` → `[{"technique": {"uid": "T1059"}}]`.
    ToObjects(TargetPath),
    /// Reads file hashes, either `ALG=hex` pairs as Sysmon writes them
    /// (`SHA256=…,MD5=…`) or bare hex told apart by length, into OCSF fingerprint objects
    /// (`algorithm_id`, `algorithm`, `value`).
    Fingerprints,
}

/// A regular expression given as text in a mapping.
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

/// The argument of the `replace` transform.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    /// What to replace.
    pub pattern: Pattern,
    /// The replacement text.
    pub with: String,
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RegexBuilder::new(&text)
            .size_limit(MAX_PATTERN_SIZE)
            .build()
            .map(Pattern)
            .map_err(|error| serde::de::Error::custom(format!("bad pattern `{text}`: {error}")))
    }
}

impl Transform {
    /// Applies the transform.
    pub(crate) fn apply(&self, value: Value) -> Result<Value, String> {
        match self {
            Transform::First => Ok(match value {
                Value::Array(items) => items.into_iter().next().unwrap_or(Value::Null),
                other => other,
            }),
            Transform::Join(separator) => match value {
                Value::Array(items) => {
                    let parts = items
                        .iter()
                        .map(|item| {
                            super::path::scalar_text(item)
                                .ok_or_else(|| format!("cannot join {}", json_type(item)))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(Value::String(parts.join(separator)))
                }
                other => Ok(other),
            },
            Transform::ToObjects(path) => {
                let items = match value {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                items
                    .into_iter()
                    .map(|item| {
                        let mut object = Value::Object(Map::new());
                        path.set(&mut object, item).map(|()| object)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            Transform::Fingerprints => fingerprints(&value),
            Transform::Split(separator) => match value {
                Value::String(text) => Ok(Value::Array(
                    text.split(separator.as_str())
                        .map(str::trim)
                        .filter(|part| !part.is_empty())
                        .map(|part| Value::String(part.to_owned()))
                        .collect(),
                )),
                Value::Array(items) => Ok(Value::Array(items)),
                other => Err(format!("cannot split {}", json_type(&other))),
            },
            text_transform => match value {
                Value::Array(items) => items
                    .into_iter()
                    .map(|item| text_transform.apply_text(item))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                other => text_transform.apply_text(other),
            },
        }
    }

    fn apply_text(&self, value: Value) -> Result<Value, String> {
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Number(_) | Value::Bool(_) => {
                super::path::scalar_text(&value).unwrap_or_default()
            }
            other => return Err(format!("expected text, got {}", json_type(other))),
        };
        let result = match self {
            Transform::Trim => text.trim().to_owned(),
            Transform::Basename => text
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or_default()
                .to_owned(),
            Transform::Dirname => match text.rfind(['/', '\\']) {
                Some(0) => text[..1].to_owned(),
                Some(end) => text[..end].to_owned(),
                None => return Err(format!("`{}` has no directory part", preview(&text))),
            },
            Transform::Extract(Pattern(regex)) => {
                let captures = regex.captures(&text).ok_or_else(|| {
                    format!("`{}` does not match /{}/", preview(&text), regex.as_str())
                })?;
                captures
                    .get(1)
                    .or_else(|| captures.get(0))
                    .map(|found| found.as_str().to_owned())
                    .unwrap_or_default()
            }
            Transform::Replace(Replacement {
                pattern: Pattern(regex),
                with,
            }) => regex.replace_all(&text, with.as_str()).into_owned(),
            _ => return Ok(value),
        };
        Ok(Value::String(result))
    }
}

/// OCSF `algorithm_id` and caption for a hash name as tools write it.
fn algorithm(name: &str) -> (i64, String) {
    let normalised: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    match normalised.as_str() {
        "MD5" => (1, "MD5".to_owned()),
        "SHA1" => (2, "SHA-1".to_owned()),
        "SHA256" => (3, "SHA-256".to_owned()),
        "SHA512" => (4, "SHA-512".to_owned()),
        "SSDEEP" | "CTPH" => (5, "CTPH".to_owned()),
        "TLSH" => (6, "TLSH".to_owned()),
        _ => (99, name.trim().to_owned()),
    }
}

fn algorithm_by_length(hex: &str) -> Option<(i64, String)> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let name = match hex.len() {
        32 => "MD5",
        40 => "SHA1",
        64 => "SHA256",
        128 => "SHA512",
        _ => return None,
    };
    Some(algorithm(name))
}

fn fingerprints(value: &Value) -> Result<Value, String> {
    let texts: Vec<&str> = match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        other => return Err(format!("expected hashes as text, got {}", json_type(other))),
    };
    let mut out = Vec::new();
    for text in texts {
        for part in text.split([',', ';', ' ', '\t', '\n']).map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let (id, name, hex) = match part.split_once('=') {
                Some((name, hex)) => {
                    let (id, caption) = algorithm(name);
                    (id, caption, hex.trim())
                }
                None => {
                    let (id, caption) = algorithm_by_length(part).ok_or_else(|| {
                        format!("`{}` is not a hash of a known length", preview(part))
                    })?;
                    (id, caption, part)
                }
            };
            if hex.is_empty() {
                continue;
            }
            let mut fingerprint = Map::new();
            fingerprint.insert("algorithm_id".into(), Value::from(id));
            fingerprint.insert("algorithm".into(), Value::String(name));
            fingerprint.insert("value".into(), Value::String(hex.to_ascii_lowercase()));
            out.push(Value::Object(fingerprint));
        }
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(text: &str) -> Pattern {
        Pattern(Regex::new(text).unwrap())
    }

    #[test]
    fn path_and_text_transforms() {
        let path = json!("C:\\Windows\\System32\\cmd.exe");
        assert_eq!(
            Transform::Basename.apply(path.clone()),
            Ok(json!("cmd.exe"))
        );
        assert_eq!(
            Transform::Dirname.apply(path),
            Ok(json!("C:\\Windows\\System32"))
        );
        assert_eq!(
            Transform::Basename.apply(json!("/usr/bin/curl")),
            Ok(json!("curl"))
        );
        assert!(Transform::Dirname.apply(json!("curl")).is_err());
        assert_eq!(
            Transform::Trim.apply(json!(" NtLmSsp ")),
            Ok(json!("NtLmSsp"))
        );
        assert_eq!(
            Transform::Split(",".into()).apply(json!("a, b,,c")),
            Ok(json!(["a", "b", "c"]))
        );
        assert_eq!(
            Transform::Join("/".into()).apply(json!(["a", 1])),
            Ok(json!("a/1"))
        );
        assert_eq!(Transform::First.apply(json!(["x", "y"])), Ok(json!("x")));
    }

    #[test]
    fn extract_and_replace() {
        let user = Transform::Extract(pattern(r"\\(.+)$"));
        assert_eq!(user.apply(json!("CORP\\jdoe")), Ok(json!("jdoe")));
        assert!(user.apply(json!("jdoe")).is_err());
        let note = Transform::Extract(pattern("^[^:]+"));
        assert_eq!(note.apply(json!("Scan::Port_Scan")), Ok(json!("Scan")));
        let replace = Transform::Replace(Replacement {
            pattern: pattern("_"),
            with: " ".into(),
        });
        assert_eq!(replace.apply(json!("Port_Scan")), Ok(json!("Port Scan")));
    }

    #[test]
    fn objects_and_fingerprints() {
        let to_objects = Transform::ToObjects(TargetPath::parse("technique.uid").unwrap());
        assert_eq!(
            to_objects.apply(json!(["T1059", "T1105"])),
            Ok(json!([{"technique": {"uid": "T1059"}}, {"technique": {"uid": "T1105"}}]))
        );
        let sha256 = "A".repeat(64);
        let hashes = Transform::Fingerprints
            .apply(json!(format!(
                "SHA1={},MD5={},IMPHASH=ff",
                "b".repeat(40),
                "c".repeat(32)
            )))
            .unwrap();
        assert_eq!(hashes[0]["algorithm_id"], json!(2));
        assert_eq!(hashes[1]["algorithm"], json!("MD5"));
        assert_eq!(hashes[2]["algorithm_id"], json!(99));
        let bare = Transform::Fingerprints.apply(json!(sha256)).unwrap();
        assert_eq!(bare[0]["algorithm_id"], json!(3));
        assert_eq!(bare[0]["value"], json!("a".repeat(64)));
        assert!(Transform::Fingerprints.apply(json!("xyz")).is_err());
    }
}
