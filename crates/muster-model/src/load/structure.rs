//! Checks that the document has the shape of a playbook: the right keys, required keys
//! present, each value of the right type. Every problem is reported, not only the first, with
//! unknown keys located at the key and wrong values at the value.
//!
//! The shape tables mirror the serde attributes of the types in `playbook.rs`; a test keeps
//! them in step with the JSON Schema generated from those types.

use serde_json::{Map, Value};

use crate::duration::HumanDuration;
use crate::link::Link;

use super::diagnostic::Report;
use super::positions::{Pointer, Positions};
use super::suggest::{closest, did_you_mean};
use super::yaml::Document;

/// What a value must look like.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    Text,
    /// A non-negative integer up to `max`.
    Whole {
        max: u64,
    },
    Number,
    Flag,
    Duration,
    Link,
    InputType,
    Any,
    /// A mapping with any keys and values (action options).
    Options,
    Record(&'static Record),
    /// A list whose items are named `noun` in messages.
    ListOf(&'static Shape, &'static str),
    /// A mapping from names to values named `noun` in messages.
    MapOf(&'static Shape, &'static str),
}

/// A mapping with a fixed set of keys.
pub(crate) struct Record {
    pub fields: &'static [Field],
}

pub(crate) struct Field {
    pub key: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// Whether an empty value (`key:` with nothing after it) means "not set".
    pub nullable: bool,
    /// How to fix a missing required key.
    pub hint: &'static str,
}

const fn required(key: &'static str, shape: Shape, hint: &'static str) -> Field {
    Field {
        key,
        shape,
        required: true,
        nullable: false,
        hint,
    }
}

const fn optional(key: &'static str, shape: Shape) -> Field {
    Field {
        key,
        shape,
        required: false,
        nullable: true,
        hint: "",
    }
}

/// Optional, but when written it must have a value (the type has a default, not an `Option`).
const fn defaulted(key: &'static str, shape: Shape) -> Field {
    Field {
        key,
        shape,
        required: false,
        nullable: false,
        hint: "",
    }
}

const U32: Shape = Shape::Whole {
    max: u32::MAX as u64,
};
const U64: Shape = Shape::Whole { max: u64::MAX };

pub(crate) static PLAYBOOK: Record = Record {
    fields: &[
        required(
            "name",
            Shape::Text,
            "add `name:` with a unique name such as `brute_force_block`",
        ),
        optional("description", Shape::Text),
        optional("team", Shape::Text),
        defaulted("inputs", Shape::MapOf(&INPUT_SHAPE, "input")),
        defaulted("settings", Shape::Record(&SETTINGS)),
        required(
            "actions",
            Shape::ListOf(&ACTION_SHAPE, "action"),
            "add `actions:` with a list of actions, starting with a trigger",
        ),
        defaulted("links", Shape::ListOf(&Shape::Link, "link")),
        defaulted("layout", Shape::MapOf(&POSITION_SHAPE, "layout entry")),
    ],
};

pub(crate) static ACTION: Record = Record {
    fields: &[
        required(
            "id",
            Shape::Text,
            "add `id:` with a unique snake_case id such as `lookup_ip`",
        ),
        required(
            "type",
            Shape::Text,
            "add `type:` with the action type, such as `type: http_request`",
        ),
        optional("description", Shape::Text),
        defaulted("options", Shape::Options),
        optional("retry", Shape::Record(&RETRY)),
        optional("timeout", Shape::Duration),
        optional("concurrency", U32),
    ],
};
static ACTION_SHAPE: Shape = Shape::Record(&ACTION);

pub(crate) static RETRY: Record = Record {
    fields: &[
        required(
            "attempts",
            U32,
            "add `attempts:` with the total number of attempts, such as `attempts: 3`",
        ),
        defaulted("backoff", Shape::Duration),
        defaulted("max_backoff", Shape::Duration),
        defaulted("factor", Shape::Number),
        defaulted("jitter", Shape::Flag),
    ],
};

pub(crate) static SETTINGS: Record = Record {
    fields: &[
        optional("keep_events_for", Shape::Duration),
        optional("max_events_per_run", U64),
        optional("concurrency", U32),
        optional("action_timeout", Shape::Duration),
    ],
};

pub(crate) static INPUT: Record = Record {
    fields: &[
        required(
            "type",
            Shape::InputType,
            "add `type:` with one of string, number, integer, boolean, object, array, any",
        ),
        optional("description", Shape::Text),
        optional("required", Shape::Flag),
        optional("default", Shape::Any),
    ],
};
static INPUT_SHAPE: Shape = Shape::Record(&INPUT);

pub(crate) static POSITION: Record = Record {
    fields: &[
        required("x", Shape::Number, "add `x:` with the horizontal position"),
        required("y", Shape::Number, "add `y:` with the vertical position"),
    ],
};
static POSITION_SHAPE: Shape = Shape::Record(&POSITION);

/// The names of [`InputType`]'s variants as written in playbooks.
pub(crate) const INPUT_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "any",
];

/// Reports every place where the document does not have the shape of a playbook.
pub(crate) fn check(document: &Document, report: &mut Report) {
    let mut checker = Checker {
        positions: &document.positions,
        report,
        removable: false,
    };
    checker.record(&document.value, &Pointer::root(), &PLAYBOOK, "the playbook");
}

struct Checker<'a> {
    positions: &'a Positions,
    report: &'a mut Report,
    /// Whether the value being checked is an optional key's, which can simply be removed.
    removable: bool,
}

impl Checker<'_> {
    fn record(&mut self, value: &Value, pointer: &Pointer, record: &Record, context: &str) {
        let Some(object) = value.as_object() else {
            let keys: Vec<String> = record
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| format!("`{}`", f.key))
                .collect();
            self.report.hinted(
                self.positions.value(pointer),
                format!("{context} must be a mapping, found {}", describe(value)),
                format!(
                    "write it as keys and values, starting with {}",
                    keys.join(" and ")
                ),
            );
            return;
        };
        // Keys suggested for a misspelt key are not reported again as missing.
        let mut suggested: Vec<&str> = Vec::new();
        for (key, child_value) in object {
            let child = pointer.key(key);
            let Some(field) = record.fields.iter().find(|f| f.key == key) else {
                let keys = record.fields.iter().map(|f| f.key);
                let closest = closest(key, keys.clone());
                suggested.extend(closest);
                let hint = match closest {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("allowed keys: {}", keys.collect::<Vec<_>>().join(", ")),
                };
                self.report.hinted(
                    self.positions.key(&child),
                    format!("unknown key `{key}` in {context}"),
                    hint,
                );
                continue;
            };
            if child_value.is_null() && field.nullable {
                continue;
            }
            let label = if std::ptr::eq(record, &PLAYBOOK) {
                format!("`{key}`")
            } else {
                format!("`{key}` of {context}")
            };
            self.removable = !field.required;
            self.value(child_value, &child, field.shape, key, &label);
        }
        for field in record.fields.iter().filter(|f| f.required) {
            if !object.contains_key(field.key) && !suggested.contains(&field.key) {
                self.report.hinted(
                    self.positions.value(pointer),
                    format!("{context} is missing `{}`", field.key),
                    field.hint,
                );
            }
        }
    }

    /// Checks one value; `key` names it in type errors and `label` names it as the context
    /// of what is inside it.
    fn value(&mut self, value: &Value, pointer: &Pointer, shape: Shape, key: &str, label: &str) {
        let pos = self.positions.value(pointer);
        // Only this value's own messages may suggest removing it, not those of its contents.
        let removable = std::mem::take(&mut self.removable);
        match shape {
            Shape::Any => {}
            Shape::Text => {
                if !value.is_string() {
                    let hint = match value {
                        Value::Number(n) => Some(format!("quote it: \"{n}\"")),
                        Value::Bool(b) => Some(format!("quote it: \"{b}\"")),
                        _ => None,
                    };
                    self.mismatch(pos, key, "text", value, hint);
                }
            }
            Shape::Whole { max } => {
                if value.as_u64().is_none_or(|n| n > max) {
                    let expected = format!("a whole number from 0 to {max}");
                    let hint = unquote_hint(value, |v| v.as_u64().is_some_and(|n| n <= max));
                    self.mismatch(pos, key, &expected, value, hint);
                }
            }
            Shape::Number => {
                if !value.is_number() {
                    let hint = unquote_hint(value, Value::is_number);
                    self.mismatch(pos, key, "a number", value, hint);
                }
            }
            Shape::Flag => {
                if !value.is_boolean() {
                    let hint = unquote_hint(value, Value::is_boolean)
                        .or_else(|| Some("write `true` or `false`".to_string()));
                    self.mismatch(pos, key, "`true` or `false`", value, hint);
                }
            }
            Shape::Duration => self.duration(value, pos, key),
            Shape::Link => match value.as_str() {
                Some(text) => {
                    if let Err(error) = text.parse::<Link>() {
                        self.report.hinted(
                            pos,
                            format!("invalid link `{text}`: {}", error.reason),
                            "write it as `from -> to` or `from.port -> to`, with action ids",
                        );
                    }
                }
                None => self.mismatch(
                    pos,
                    "each link",
                    "text such as `alert -> normalize`",
                    value,
                    None,
                ),
            },
            Shape::InputType => match value.as_str() {
                Some(text) if INPUT_TYPES.contains(&text) => {}
                Some(text) => {
                    let hint = did_you_mean(text, INPUT_TYPES)
                        .unwrap_or_else(|| format!("use one of: {}", INPUT_TYPES.join(", ")));
                    self.report
                        .hinted(pos, format!("unknown input type `{text}`"), hint);
                }
                None => self.mismatch(pos, key, "an input type name", value, None),
            },
            Shape::Options => {
                if !value.is_object() {
                    self.mismatch(
                        pos,
                        key,
                        "a mapping of option names to values",
                        value,
                        empty_hint(value, key, removable),
                    );
                }
            }
            Shape::Record(record) => self.record(value, pointer, record, label),
            Shape::ListOf(item, noun) => {
                let Some(items) = value.as_array() else {
                    let hint = empty_hint(value, key, removable).or_else(|| {
                        Some("write a list: one item per line, each starting with `- `".to_string())
                    });
                    self.mismatch(pos, key, "a list", value, hint);
                    return;
                };
                for (index, item_value) in items.iter().enumerate() {
                    let name = match item_value.get("id").and_then(Value::as_str) {
                        Some(id) => format!("{noun} `{id}`"),
                        None => format!("{noun} #{}", index + 1),
                    };
                    self.value(item_value, &pointer.index(index), *item, key, &name);
                }
            }
            Shape::MapOf(entry, noun) => {
                let Some(entries) = value.as_object() else {
                    self.mismatch(
                        pos,
                        key,
                        "a mapping",
                        value,
                        empty_hint(value, key, removable),
                    );
                    return;
                };
                self.entries(entries, pointer, *entry, noun);
            }
        }
    }

    fn entries(
        &mut self,
        entries: &Map<String, Value>,
        pointer: &Pointer,
        shape: Shape,
        noun: &str,
    ) {
        for (name, entry) in entries {
            let label = format!("{noun} `{name}`");
            self.value(entry, &pointer.key(name), shape, name, &label);
        }
    }

    fn duration(&mut self, value: &Value, pos: super::diagnostic::Pos, key: &str) {
        const HINT: &str = "write it like 500ms, 30s, 5m, 2h, 7d or 1h30m";
        match value {
            Value::String(text) => {
                if let Err(error) = text.parse::<HumanDuration>() {
                    self.report.hinted(
                        pos,
                        format!("invalid duration `{text}` for `{key}`: {}", error.reason),
                        HINT,
                    );
                }
            }
            Value::Number(n) if n.is_u64() => {}
            _ => self.mismatch(
                pos,
                key,
                "a duration such as `30s`, or a whole number of seconds",
                value,
                Some(HINT.to_string()),
            ),
        }
    }

    fn mismatch(
        &mut self,
        pos: super::diagnostic::Pos,
        key: &str,
        expected: &str,
        found: &Value,
        hint: Option<String>,
    ) {
        let name = if key.starts_with("each ") {
            key.to_string()
        } else {
            format!("`{key}`")
        };
        self.report.add(
            pos,
            format!("{name} must be {expected}, found {}", describe(found)),
            hint,
        );
    }
}

/// "remove the quotes" when a quoted string would have the expected type unquoted.
fn unquote_hint(value: &Value, accepts: impl Fn(&Value) -> bool) -> Option<String> {
    let text = value.as_str()?;
    match super::scalar::resolve_plain(text.trim()) {
        super::scalar::Plain::Value(unquoted) if accepts(&unquoted) => {
            Some(format!("remove the quotes: {}", text.trim()))
        }
        _ => None,
    }
}

fn empty_hint(value: &Value, key: &str, removable: bool) -> Option<String> {
    value.is_null().then(|| {
        if removable {
            format!("remove the empty `{key}:` or write its content below it, indented")
        } else {
            format!("write the content of `{key}:` below it, indented")
        }
    })
}

/// A short description of a value for messages: `the text "abc"`, `the number 3`, `a list`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "an empty value".to_string(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let mut shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            format!("the text {shown:?}")
        }
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::playbook::InputType;

    /// The shape tables must list exactly the keys of the types, and the same required keys.
    #[test]
    fn tables_match_the_schema_of_the_types() {
        let schema = super::super::json_schema();
        let definitions = &schema["$defs"];
        for (record, schema) in [
            (&PLAYBOOK, &schema),
            (&ACTION, &definitions["ActionDef"]),
            (&RETRY, &definitions["RetryPolicy"]),
            (&SETTINGS, &definitions["Settings"]),
            (&INPUT, &definitions["InputSpec"]),
            (&POSITION, &definitions["Position"]),
        ] {
            let keys: BTreeSet<&str> = record.fields.iter().map(|f| f.key).collect();
            let schema_keys: BTreeSet<&str> = schema["properties"]
                .as_object()
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(keys, schema_keys);
            let required: BTreeSet<&str> = record
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.key)
                .collect();
            let schema_required: BTreeSet<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(required, schema_required, "{keys:?}");
        }
    }

    #[test]
    fn input_type_names_are_the_variants() {
        for name in INPUT_TYPES {
            let parsed: Result<InputType, _> = serde_json::from_value(Value::String(name.into()));
            assert!(parsed.is_ok(), "{name}");
        }
        let schema = super::super::json_schema();
        let variants: BTreeSet<&str> = schema["$defs"]["InputType"]["enum"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(variants, INPUT_TYPES.into_iter().collect());
    }
}
