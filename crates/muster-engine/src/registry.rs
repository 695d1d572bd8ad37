//! The registry of action types, keyed by type name. It is also the catalogue the playbook
//! loader validates against.

use std::collections::BTreeMap;
use std::sync::Arc;

use muster_model::{ActionCatalog, ActionDef, ActionKindInfo, OptionProblem};
use serde_json::Value;

use crate::action::Action;

/// Every action type this process can run.
#[derive(Clone, Default)]
pub struct Registry {
    actions: BTreeMap<String, Arc<dyn Action>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an action type; a later registration of the same name replaces the earlier one.
    pub fn register(&mut self, action: impl Action) -> &mut Self {
        let action: Arc<dyn Action> = Arc::new(action);
        self.actions.insert(action.spec().kind.to_string(), action);
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn Action>> {
        self.actions.get(kind)
    }

    /// All action types, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Action>> {
        self.actions.values()
    }
}

impl ActionCatalog for Registry {
    fn kind_info(&self, kind: &str) -> Option<ActionKindInfo> {
        self.get(kind).map(|a| ActionKindInfo {
            trigger: a.spec().trigger,
        })
    }

    fn kind_names(&self) -> Vec<String> {
        self.actions.keys().cloned().collect()
    }

    fn ports(&self, action: &ActionDef) -> Vec<String> {
        self.get(&action.kind)
            .map(|a| a.ports(action))
            .unwrap_or_else(|| vec!["out".to_string()])
    }

    fn check_options(&self, action: &ActionDef) -> Vec<OptionProblem> {
        let Some(implementation) = self.get(&action.kind) else {
            return Vec::new();
        };
        let mut problems = check_against_schema(&implementation.spec().options, &action.options);
        problems.extend(implementation.check(action));
        problems
    }
}

/// Checks what can be checked before expressions are evaluated: unknown keys, missing
/// required keys, and the JSON type of literal (expression-free) values.
fn check_against_schema(
    schema: &Value,
    options: &serde_json::Map<String, Value>,
) -> Vec<OptionProblem> {
    let mut problems = Vec::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !options.contains_key(name) {
                problems.push(OptionProblem {
                    path: String::new(),
                    message: format!("missing required option `{name}`"),
                    hint: Some(format!("add `{name}:` under `options`")),
                });
            }
        }
    }
    for (name, value) in options {
        let property = properties.and_then(|p| p.get(name));
        match property {
            None if closed => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                problems.push(OptionProblem {
                    path: name.clone(),
                    message: format!("unknown option `{name}`"),
                    hint: Some(if known.is_empty() {
                        "this action takes no options".to_string()
                    } else {
                        format!("known options: {}", known.join(", "))
                    }),
                });
            }
            Some(property) => {
                if let Some(problem) = literal_type_problem(name, property, value) {
                    problems.push(problem);
                }
            }
            None => {}
        }
    }
    problems
}

fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("{{") || s.contains("{%"),
        Value::Array(items) => items.iter().any(contains_expression),
        Value::Object(map) => map.values().any(contains_expression),
        _ => false,
    }
}

fn literal_type_problem(name: &str, property: &Value, value: &Value) -> Option<OptionProblem> {
    if contains_expression(value) {
        return None;
    }
    let allowed: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let fits = |t: &str| match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    };
    if allowed.iter().any(|t| fits(t)) {
        if let (Some(choices), Some(text)) = (
            property.get("enum").and_then(Value::as_array),
            value.as_str(),
        ) && !choices.iter().any(|c| c.as_str() == Some(text))
        {
            let names: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
            return Some(OptionProblem {
                path: name.to_string(),
                message: format!("`{name}` must be one of {}, not {text:?}", names.join(", ")),
                hint: None,
            });
        }
        return None;
    }
    Some(OptionProblem {
        path: name.to_string(),
        message: format!(
            "`{name}` must be {} (found {})",
            allowed.join(" or "),
            json_type(value)
        ),
        hint: None,
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn schema_checks_keys_and_literal_types() {
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["url"],
            "properties": {
                "url": {"type": "string"},
                "timeout": {"type": "integer"},
                "method": {"type": "string", "enum": ["GET", "POST"]}
            }
        });
        let problems = check_against_schema(
            &schema,
            &options(json!({"timeout": "x", "metod": 1, "method": "PUT"})),
        );
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "missing required option `url`",
                "`timeout` must be integer (found string)",
                "unknown option `metod`",
                "`method` must be one of GET, POST, not \"PUT\"",
            ]
        );
        let ok = check_against_schema(
            &schema,
            &options(json!({"url": "{{ a.b }}", "timeout": "{{ x }}"})),
        );
        assert!(ok.is_empty(), "{ok:?}");
    }
}
