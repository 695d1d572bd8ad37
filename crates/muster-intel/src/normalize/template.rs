//! `format` candidates: text built from several source fields, like `"{note}: {msg}"`.
//!
//! Each `{path}` is replaced by the text of the scalar at that source path; `{{` and `}}`
//! write literal braces. When any placeholder is missing or empty the candidate gives no
//! value, so the next candidate is tried.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde_json::Value;

use super::path::{Concrete, SourcePath, scalar_text};

/// A parsed format string.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Field(SourcePath),
}

/// A rendered template and the input locations it read.
pub(crate) struct Rendered {
    pub(crate) text: String,
    pub(crate) read: Vec<Vec<Concrete>>,
}

impl Template {
    /// Parses a format string; errors name the column.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    literal.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    literal.push('}');
                    i += 2;
                }
                '{' => {
                    let close = chars[i + 1..]
                        .iter()
                        .position(|c| *c == '}')
                        .ok_or_else(|| format!("unclosed `{{` at column {}", i + 1))?;
                    let inner: String = chars[i + 1..i + 1 + close].iter().collect();
                    let path = SourcePath::parse(inner.trim())
                        .map_err(|error| format!("placeholder at column {}: {error}", i + 1))?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(path));
                    i += close + 2;
                }
                '}' => return Err(format!("unmatched `}}` at column {}; write `}}}}`", i + 1)),
                c => {
                    literal.push(c);
                    i += 1;
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        if !parts.iter().any(|part| matches!(part, Part::Field(_))) {
            return Err(
                "a format needs at least one {placeholder}; use `const` for fixed text".into(),
            );
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// Fills the template from `root`; `None` when a placeholder has no usable value.
    pub(crate) fn render(
        &self,
        root: &Value,
        is_empty: impl Fn(&Value) -> bool,
    ) -> Option<Rendered> {
        let mut text = String::new();
        let mut read = Vec::new();
        for part in &self.parts {
            match part {
                Part::Literal(literal) => text.push_str(literal),
                Part::Field(path) => {
                    let (value, taken) = path.lookup(root)?;
                    if is_empty(value) {
                        return None;
                    }
                    text.push_str(&scalar_text(value)?);
                    read.push(taken);
                }
            }
        }
        Some(Rendered { text, read })
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Template::parse(&text)
            .map_err(|error| de::Error::custom(format!("bad format `{text}`: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_placeholders_and_escapes() {
        let template = Template::parse("{note}: {msg} {{{[\"id.orig_h\"]}}}").unwrap();
        let alert = json!({"note": "Scan::Port_Scan", "msg": "scanned", "id.orig_h": "10.0.0.1"});
        let rendered = template.render(&alert, Value::is_null).unwrap();
        assert_eq!(rendered.text, "Scan::Port_Scan: scanned {10.0.0.1}");
        assert_eq!(rendered.read.len(), 3);
        assert!(
            template
                .render(&json!({"note": "x"}), Value::is_null)
                .is_none()
        );
    }

    #[test]
    fn rejects_bad_formats() {
        assert!(Template::parse("{note").unwrap_err().contains("column 1"));
        assert!(
            Template::parse("a } b {c}")
                .unwrap_err()
                .contains("column 3")
        );
        assert!(Template::parse("fixed").is_err());
        assert!(Template::parse("{a..b}").is_err());
    }
}
