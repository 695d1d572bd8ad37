//! Running a mapping over one input value.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::coerce::preview;
use super::derive;
use super::error::NormalizeError;
use super::mapping::{Candidate, FieldRule, Mapping, RAW_DATA_KEY, UNMAPPED_KEY, Unmapped};
use super::path::{Concrete, scalar_text};
use super::unmapped::{UsedPaths, remainder};
use super::{Normalized, Warning};

/// What one rule produced.
enum Outcome {
    /// A value, the input locations it came from, and the candidates that failed before it.
    Value {
        value: Value,
        read: Vec<Vec<Concrete>>,
        failures: Vec<String>,
    },
    /// No candidate gave a value.
    Nothing { failures: Vec<String> },
    /// The rule's `when` source is empty.
    Skipped,
}

struct Run<'a> {
    mapping: &'a Mapping,
    reference: DateTime<Utc>,
}

/// Applies `mapping` to `input`. `raw_text` is the original text when the input was parsed
/// from text (written to `raw_data` when the mapping asks for it).
pub(crate) fn apply(
    mapping: &Mapping,
    input: &Value,
    reference: DateTime<Utc>,
    raw_text: Option<&str>,
) -> Result<Normalized, NormalizeError> {
    if !input.is_object() {
        return Err(NormalizeError::NotAnObject {
            found: super::path::json_type(input),
        });
    }
    let run = Run { mapping, reference };
    let (root, root_path) = run.root(input);
    run.check_expectations(root)?;

    let mut event = Value::Object(Map::new());
    let mut warnings = Vec::new();
    let mut used = UsedPaths::default();
    for rule in &mapping.fields {
        match run.evaluate(rule, root) {
            Outcome::Value {
                value,
                read,
                failures,
            } => {
                rule.target
                    .set(&mut event, value)
                    .map_err(|reason| NormalizeError::Target {
                        field: rule.target.to_string(),
                        reason,
                    })?;
                for path in read {
                    let mut full = root_path.clone();
                    full.extend(path);
                    used.insert(&full);
                }
                if !failures.is_empty() {
                    warnings.push(Warning::field(
                        &rule.target,
                        format!("skipped unusable values: {}", failures.join("; ")),
                    ));
                }
            }
            Outcome::Nothing { failures } => {
                if rule.required {
                    return Err(NormalizeError::MissingRequired {
                        field: rule.target.to_string(),
                        reason: run.why_nothing(rule, &failures),
                    });
                }
                if !failures.is_empty() {
                    warnings.push(Warning::field(
                        &rule.target,
                        format!("left out: {}", failures.join("; ")),
                    ));
                }
            }
            Outcome::Skipped => {}
        }
    }

    let Value::Object(mut event) = event else {
        return Err(NormalizeError::NotAnObject { found: "nothing" });
    };
    if let Some(class) = mapping.ocsf_class {
        derive::fill(class, &mut event);
    }
    if mapping.raw_data
        && let Some(text) = raw_text
    {
        event.insert(RAW_DATA_KEY.to_owned(), Value::String(text.to_owned()));
    }
    if mapping.unmapped == Unmapped::Keep {
        let mut truncated = false;
        if let Some(rest) = remainder(input, &used, &mut truncated) {
            event.insert(UNMAPPED_KEY.to_owned(), rest);
        }
        if truncated {
            warnings.push(Warning::general(format!(
                "parts of the unmapped input were nested too deeply and were replaced by \"{}\"",
                super::unmapped::TOO_DEEP_MARKER
            )));
        }
    }
    Ok(Normalized {
        event: Value::Object(event),
        warnings,
    })
}

impl Run<'_> {
    /// The value the field paths are read from: the first `unwrap` path that holds an
    /// object, else the input itself.
    fn root<'v>(&self, input: &'v Value) -> (&'v Value, Vec<Concrete>) {
        for path in &self.mapping.unwrap {
            if let Some((value, taken)) = path.lookup(input)
                && value.is_object()
            {
                return (value, taken);
            }
        }
        (input, Vec::new())
    }

    fn check_expectations(&self, root: &Value) -> Result<(), NormalizeError> {
        for expectation in &self.mapping.expect {
            let paths = &expectation.path.0;
            let expected = || {
                let texts: Vec<String> = expectation
                    .values
                    .iter()
                    .map(|value| scalar_text(value).unwrap_or_else(|| value.to_string()))
                    .collect();
                texts.join(", ")
            };
            let found = paths
                .iter()
                .find_map(|path| path.lookup(root).filter(|(value, _)| !self.is_empty(value)));
            let Some((value, _)) = found else {
                return Err(NormalizeError::Unexpected {
                    path: paths
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" | "),
                    found: "missing".to_owned(),
                    expected: expected(),
                });
            };
            let text = scalar_text(value);
            let matches = expectation
                .values
                .iter()
                .any(|accepted| text.is_some() && scalar_text(accepted) == text);
            if !matches {
                let path = paths
                    .iter()
                    .find(|path| path.lookup(root).is_some())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                return Err(NormalizeError::Unexpected {
                    path,
                    found: text.map_or_else(
                        || super::path::json_type(value).to_owned(),
                        |t| format!("`{}`", preview(&t)),
                    ),
                    expected: expected(),
                });
            }
        }
        Ok(())
    }

    /// Empty means: absent, null, blank text, one of the mapping's `null_values`, or an empty
    /// array or object.
    fn is_empty(&self, value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::String(text) => {
                let trimmed = text.trim();
                trimmed.is_empty() || self.mapping.null_values.iter().any(|null| null == trimmed)
            }
            Value::Array(items) => items.is_empty(),
            Value::Object(object) => object.is_empty(),
            _ => false,
        }
    }

    fn evaluate(&self, rule: &FieldRule, root: &Value) -> Outcome {
        if !rule.when.is_empty()
            && !rule.when.iter().any(|path| {
                path.lookup(root)
                    .is_some_and(|(value, _)| !self.is_empty(value))
            })
        {
            return Outcome::Skipped;
        }
        let mut failures = Vec::new();
        for candidate in &rule.candidates {
            let (value, read, label) = match candidate {
                Candidate::Const(value) => {
                    return Outcome::Value {
                        value: value.clone(),
                        read: Vec::new(),
                        failures,
                    };
                }
                Candidate::Path(path) => match path.lookup(root) {
                    Some((value, taken)) if !self.is_empty(value) => {
                        (value.clone(), vec![taken], path.to_string())
                    }
                    _ => continue,
                },
                Candidate::Format(template) => {
                    match template.render(root, |value| self.is_empty(value)) {
                        Some(rendered) => (
                            Value::String(rendered.text),
                            rendered.read,
                            format!("format \"{template}\""),
                        ),
                        None => continue,
                    }
                }
            };
            let shown = describe(&value);
            match self.pipeline(rule, value) {
                Ok(Some(value)) => {
                    return Outcome::Value {
                        value,
                        read,
                        failures,
                    };
                }
                Ok(None) => {}
                Err(reason) => failures.push(format!("`{label}` = {shown}: {reason}")),
            }
        }
        Outcome::Nothing { failures }
    }

    /// Transforms, then the enum map, then the coercions. `Ok(None)` when the result is empty.
    fn pipeline(&self, rule: &FieldRule, mut value: Value) -> Result<Option<Value>, String> {
        for transform in &rule.transforms {
            value = transform.apply(value)?;
        }
        if self.is_empty(&value) {
            return Ok(None);
        }
        if let Some(map) = &rule.map {
            value = match map.translate(&value) {
                Ok(target) => target,
                Err(reason) => match &rule.otherwise {
                    Some(otherwise) => otherwise.clone(),
                    None => return Err(reason),
                },
            };
        }
        for coercion in &rule.coerce {
            value = coercion.apply(value, self.reference)?;
        }
        Ok((!self.is_empty(&value)).then_some(value))
    }

    fn why_nothing(&self, rule: &FieldRule, failures: &[String]) -> String {
        if !failures.is_empty() {
            return format!("no source gave a usable value: {}", failures.join("; "));
        }
        let sources: Vec<String> = rule
            .candidates
            .iter()
            .filter_map(|candidate| match candidate {
                Candidate::Path(path) => Some(format!("`{path}`")),
                Candidate::Format(template) => Some(format!("format \"{template}\"")),
                Candidate::Const(_) => None,
            })
            .collect();
        format!("the input has none of {}", sources.join(", "))
    }
}

/// A short rendering of a value for warnings.
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("\"{}\"", preview(text)),
        Value::Array(_) | Value::Object(_) => super::path::json_type(value).to_owned(),
        other => other.to_string(),
    }
}
