//! Paths into JSON values: source paths that read an alert and target paths that build the
//! normalised event.
//!
//! Syntax: dotted keys (`alert.signature`), quoted keys for names with dots or other special
//! characters (`["id.orig_h"]`, `['remote-ip-address']`), array indexes (`[0]`, `[-1]` for the
//! last element) and, in source paths only, a filter that picks the first array element whose
//! key equals a value (`evidence[entityType=Process]`). Bare keys may contain any character
//! except `.`, `[`, `]`, quotes, braces and whitespace, so `@timestamp` and `detail-type` work.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The longest path accepted, in steps; keeps lookups and the output's nesting bounded.
const MAX_STEPS: usize = 32;
/// The largest array index a target path may write; stops a mapping from allocating huge arrays.
const MAX_TARGET_INDEX: usize = 255;

/// One step of a parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(i64),
    Filter { key: String, value: String },
}

/// One step of a path as it was actually taken through a value (filters and negative indexes
/// resolved), used to tell which parts of the input were mapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Concrete {
    Key(String),
    Index(usize),
}

/// A path that reads a value from the input alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePath {
    text: String,
    steps: Vec<Step>,
}

/// A path that places a value in the normalised event, creating objects and arrays on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPath {
    text: String,
    steps: Vec<Step>,
}

impl SourcePath {
    /// Parses a source path; the error says what is wrong and at which column.
    pub fn parse(text: &str) -> Result<Self, String> {
        let steps = parse_steps(text)?;
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Follows the path through `root`; returns the value and the concrete steps taken.
    pub(crate) fn lookup<'a>(&self, root: &'a Value) -> Option<(&'a Value, Vec<Concrete>)> {
        let mut current = root;
        let mut taken = Vec::with_capacity(self.steps.len());
        for step in &self.steps {
            match step {
                Step::Key(key) => {
                    current = current.as_object()?.get(key)?;
                    taken.push(Concrete::Key(key.clone()));
                }
                Step::Index(index) => {
                    let items = current.as_array()?;
                    let position = resolve_index(*index, items.len())?;
                    current = items.get(position)?;
                    taken.push(Concrete::Index(position));
                }
                Step::Filter { key, value } => {
                    let items = current.as_array()?;
                    let position = items.iter().position(|item| {
                        item.as_object()
                            .and_then(|object| object.get(key))
                            .and_then(scalar_text)
                            .is_some_and(|text| text == *value)
                    })?;
                    current = &items[position];
                    taken.push(Concrete::Index(position));
                }
            }
        }
        Some((current, taken))
    }
}

impl TargetPath {
    /// Parses a target path: keys and non-negative indexes only, starting with a key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let steps = parse_steps(text)?;
        match steps.first() {
            Some(Step::Key(_)) => {}
            _ => return Err("a target path must start with a key".to_owned()),
        }
        for step in &steps {
            match step {
                Step::Key(_) => {}
                Step::Index(index) => {
                    if *index < 0 || *index as usize > MAX_TARGET_INDEX {
                        return Err(format!(
                            "target index [{index}] must be between 0 and {MAX_TARGET_INDEX}"
                        ));
                    }
                }
                Step::Filter { .. } => {
                    return Err("filters like [key=value] are only allowed in source paths".into());
                }
            }
        }
        Ok(Self {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first key of the path (the top-level attribute it writes).
    pub(crate) fn first_key(&self) -> &str {
        match self.steps.first() {
            Some(Step::Key(key)) => key,
            _ => "",
        }
    }

    /// Whether two targets cannot both be written: one is a prefix of the other, or they
    /// disagree on whether a container is an object or an array.
    pub(crate) fn conflicts_with(&self, other: &TargetPath) -> bool {
        for (mine, theirs) in self.steps.iter().zip(&other.steps) {
            match (mine, theirs) {
                (Step::Key(a), Step::Key(b)) if a == b => {}
                (Step::Index(a), Step::Index(b)) if a == b => {}
                (Step::Key(_), Step::Key(_)) | (Step::Index(_), Step::Index(_)) => return false,
                _ => return true,
            }
        }
        true
    }

    /// Writes `value` at this path inside `root`, creating objects and arrays (padded with
    /// `null`) as needed. Fails when a value on the way is not a container of the right kind.
    pub(crate) fn set(&self, root: &mut Value, value: Value) -> Result<(), String> {
        let mut current = root;
        let last = self.steps.len().saturating_sub(1);
        for (position, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(key) => {
                    if current.is_null() {
                        *current = Value::Object(Map::new());
                    }
                    let Value::Object(object) = current else {
                        return Err(self.clash(position, current));
                    };
                    if position == last {
                        object.insert(key.clone(), value);
                        return Ok(());
                    }
                    current = object.entry(key.clone()).or_insert(Value::Null);
                }
                Step::Index(index) => {
                    if current.is_null() {
                        *current = Value::Array(Vec::new());
                    }
                    let Value::Array(items) = current else {
                        return Err(self.clash(position, current));
                    };
                    let index = usize::try_from(*index).map_err(|_| "negative index".to_owned())?;
                    if items.len() <= index {
                        items.resize(index + 1, Value::Null);
                    }
                    if position == last {
                        items[index] = value;
                        return Ok(());
                    }
                    current = &mut items[index];
                }
                Step::Filter { .. } => return Err("filters cannot be written to".to_owned()),
            }
        }
        Ok(())
    }

    fn clash(&self, position: usize, found: &Value) -> String {
        let prefix = render_steps(&self.steps[..position]);
        format!(
            "cannot write `{}`: `{prefix}` already holds {}",
            self.text,
            json_type(found)
        )
    }
}

impl<'de> Deserialize<'de> for SourcePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SourcePath::parse(&text)
            .map_err(|error| de::Error::custom(format!("bad source path `{text}`: {error}")))
    }
}

impl<'de> Deserialize<'de> for TargetPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TargetPath::parse(&text)
            .map_err(|error| de::Error::custom(format!("bad target path `{text}`: {error}")))
    }
}

impl fmt::Display for SourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text of a scalar (strings as they are, numbers and booleans as JSON writes them).
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
    }
}

fn render_steps(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
            Step::Filter { key, value } => out.push_str(&format!("[{key}={value}]")),
        }
    }
    out
}

fn is_bare_key_char(c: char) -> bool {
    !(c == '.' || c == '[' || c == ']' || c == '"' || c == '\'' || c == '{' || c == '}')
        && !c.is_whitespace()
}

fn parse_steps(text: &str) -> Result<Vec<Step>, String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Err("the path is empty".to_owned());
    }
    let mut steps = Vec::new();
    let mut i = 0;
    // Whether the previous token was a `.` (so a key must follow).
    let mut after_dot = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '.' => {
                if steps.is_empty() || after_dot {
                    return Err(format!("empty key before `.` at column {}", i + 1));
                }
                after_dot = true;
                i += 1;
            }
            '[' => {
                let (step, next) = parse_bracket(&chars, i)?;
                steps.push(step);
                i = next;
                after_dot = false;
                check_follow(&chars, i)?;
            }
            c if is_bare_key_char(c) => {
                if !steps.is_empty() && !after_dot {
                    return Err(format!("expected `.` or `[` at column {}", i + 1));
                }
                let start = i;
                while i < chars.len() && is_bare_key_char(chars[i]) {
                    i += 1;
                }
                steps.push(Step::Key(chars[start..i].iter().collect()));
                after_dot = false;
            }
            other => {
                return Err(format!(
                    "unexpected `{other}` at column {}; quote keys with special characters, like [\"my key\"]",
                    i + 1
                ));
            }
        }
        if steps.len() > MAX_STEPS {
            return Err(format!("the path has more than {MAX_STEPS} steps"));
        }
    }
    if after_dot {
        return Err("the path ends with `.`".to_owned());
    }
    Ok(steps)
}

fn check_follow(chars: &[char], i: usize) -> Result<(), String> {
    match chars.get(i) {
        None | Some('.') | Some('[') => Ok(()),
        Some(other) => Err(format!(
            "expected `.` or `[` after `]` at column {}, found `{other}`",
            i + 1
        )),
    }
}

/// Parses `[...]` starting at `open`; returns the step and the index after `]`.
fn parse_bracket(chars: &[char], open: usize) -> Result<(Step, usize), String> {
    let mut i = open + 1;
    let first = read_bracket_atom(chars, &mut i, open)?;
    match chars.get(i) {
        Some(']') => {
            let step = match first {
                Atom::Quoted(key) => Step::Key(key),
                Atom::Bare(raw) => {
                    let index: i64 = raw.trim().parse().map_err(|_| {
                        format!(
                            "`[{raw}]` at column {} is neither an index nor a quoted key",
                            open + 1
                        )
                    })?;
                    Step::Index(index)
                }
            };
            Ok((step, i + 1))
        }
        Some('=') => {
            i += 1;
            let value = read_bracket_atom(chars, &mut i, open)?;
            if chars.get(i) != Some(&']') {
                return Err(format!("unclosed `[` at column {}", open + 1));
            }
            let key = match first {
                Atom::Quoted(key) | Atom::Bare(key) => key.trim().to_owned(),
            };
            if key.is_empty() {
                return Err(format!("empty filter key at column {}", open + 1));
            }
            let value = match value {
                Atom::Quoted(value) => value,
                Atom::Bare(value) => value.trim().to_owned(),
            };
            Ok((Step::Filter { key, value }, i + 1))
        }
        _ => Err(format!("unclosed `[` at column {}", open + 1)),
    }
}

enum Atom {
    Quoted(String),
    Bare(String),
}

/// Reads a quoted string or bare text up to `]` or `=` inside brackets.
fn read_bracket_atom(chars: &[char], i: &mut usize, open: usize) -> Result<Atom, String> {
    while chars.get(*i).is_some_and(|c| *c == ' ') {
        *i += 1;
    }
    match chars.get(*i) {
        Some(&quote) if quote == '"' || quote == '\'' => {
            *i += 1;
            let mut out = String::new();
            loop {
                match chars.get(*i) {
                    None => return Err(format!("unclosed quote in `[` at column {}", open + 1)),
                    Some('\\') => {
                        let escaped = chars.get(*i + 1).ok_or_else(|| {
                            format!("unfinished escape in `[` at column {}", open + 1)
                        })?;
                        out.push(*escaped);
                        *i += 2;
                    }
                    Some(&c) if c == quote => {
                        *i += 1;
                        break;
                    }
                    Some(&c) => {
                        out.push(c);
                        *i += 1;
                    }
                }
            }
            while chars.get(*i).is_some_and(|c| *c == ' ') {
                *i += 1;
            }
            Ok(Atom::Quoted(out))
        }
        _ => {
            let start = *i;
            while chars.get(*i).is_some_and(|c| *c != ']' && *c != '=') {
                *i += 1;
            }
            Ok(Atom::Bare(chars[start..*i].iter().collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_dotted_quoted_indexed_and_filtered_paths() {
        let alert = json!({
            "a": {"b": [10, 20, 30]},
            "id.orig_h": "10.0.0.1",
            "remote-ip-address": "203.0.113.9",
            "evidence": [{"entityType": "User"}, {"entityType": "Process", "pid": 42}],
        });
        let read = |path: &str| {
            SourcePath::parse(path)
                .unwrap()
                .lookup(&alert)
                .map(|(v, _)| v.clone())
        };
        assert_eq!(read("a.b[1]"), Some(json!(20)));
        assert_eq!(read("a.b[-1]"), Some(json!(30)));
        assert_eq!(read("a.b[3]"), None);
        assert_eq!(read("[\"id.orig_h\"]"), Some(json!("10.0.0.1")));
        assert_eq!(read("['remote-ip-address']"), Some(json!("203.0.113.9")));
        assert_eq!(read("remote-ip-address"), Some(json!("203.0.113.9")));
        assert_eq!(read("evidence[entityType=Process].pid"), Some(json!(42)));
        assert_eq!(
            read("evidence[entityType=\"Process\"].pid"),
            Some(json!(42))
        );
        assert_eq!(read("evidence[entityType=Ip].pid"), None);
    }

    #[test]
    fn reports_bad_paths_with_columns() {
        assert!(SourcePath::parse("").is_err());
        assert!(SourcePath::parse("a..b").unwrap_err().contains("column 3"));
        assert!(SourcePath::parse("a.").is_err());
        assert!(SourcePath::parse("a[x]").unwrap_err().contains("neither"));
        assert!(SourcePath::parse("a[\"x").is_err());
        assert!(SourcePath::parse("a b").is_err());
        assert!(TargetPath::parse("[0].a").is_err());
        assert!(TargetPath::parse("a[-1]").is_err());
        assert!(TargetPath::parse("a[k=v]").is_err());
        assert!(TargetPath::parse("a[100000]").is_err());
    }

    #[test]
    fn sets_nested_targets_and_detects_conflicts() {
        let mut out = Value::Null;
        let ip = TargetPath::parse("evidences[0].src_endpoint.ip").unwrap();
        ip.set(&mut out, json!("10.0.0.1")).unwrap();
        TargetPath::parse("evidences[0].src_endpoint.port")
            .unwrap()
            .set(&mut out, json!(22))
            .unwrap();
        assert_eq!(
            out,
            json!({"evidences": [{"src_endpoint": {"ip": "10.0.0.1", "port": 22}}]})
        );
        let clash = TargetPath::parse("evidences[0].src_endpoint.ip.v4").unwrap();
        assert!(
            clash
                .set(&mut out, json!(1))
                .unwrap_err()
                .contains("already holds")
        );

        let a = TargetPath::parse("src.ip").unwrap();
        assert!(a.conflicts_with(&TargetPath::parse("src").unwrap()));
        assert!(a.conflicts_with(&TargetPath::parse("src[0]").unwrap()));
        assert!(!a.conflicts_with(&TargetPath::parse("src.port").unwrap()));
        assert!(!a.conflicts_with(&TargetPath::parse("dst.ip").unwrap()));
    }
}
