//! Checking the inputs a caller passes to a callable playbook against its `inputs:`.

use muster_model::Playbook;
use serde_json::{Map, Value};

/// Validates `given` against the playbook's declared inputs and fills in defaults.
/// Playbooks that declare no inputs accept any object.
pub fn apply_inputs(playbook: &Playbook, given: Value) -> Result<Value, String> {
    let Value::Object(mut given) = given else {
        return Err("inputs must be an object".into());
    };
    if playbook.inputs.is_empty() {
        return Ok(Value::Object(given));
    }
    let mut problems = Vec::new();
    for name in given.keys() {
        if !playbook.inputs.contains_key(name) {
            problems.push(format!("unknown input `{name}`"));
        }
    }
    let mut out = Map::new();
    for (name, spec) in &playbook.inputs {
        match given.remove(name) {
            Some(value) if spec.kind.accepts(&value) => {
                out.insert(name.clone(), value);
            }
            Some(value) => {
                let expected = serde_json::to_value(spec.kind).unwrap_or(Value::Null);
                problems.push(format!(
                    "input `{name}` must be of type {expected}, got {value}"
                ));
            }
            None => match &spec.default {
                Some(default) => {
                    out.insert(name.clone(), default.clone());
                }
                None if spec.is_required() => {
                    problems.push(format!("missing required input `{name}`"))
                }
                None => {}
            },
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(problems.join("; "))
    }
}
