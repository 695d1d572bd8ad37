//! Typed options: each action declares an options struct; its JSON Schema is generated from
//! the struct, and rendered options are deserialised into it at run time.

use muster_engine::ActionError;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The JSON Schema of an options struct, without the meta keys.
pub fn schema<T: JsonSchema>() -> Value {
    let mut value = schemars::schema_for!(T).to_value();
    if let Some(map) = value.as_object_mut() {
        map.remove("$schema");
        map.remove("title");
    }
    value
}

/// Deserialises rendered options, with an error that names the option.
pub fn parse<T: DeserializeOwned>(rendered: Value) -> Result<T, ActionError> {
    serde_json::from_value(rendered)
        .map_err(|e| ActionError::permanent(format!("invalid options: {e}")))
}

/// Parses a duration option (`30s`, `5m`) with an error that names it.
pub fn duration(name: &str, value: &Value) -> Result<std::time::Duration, ActionError> {
    let parsed: Result<muster_model::HumanDuration, _> = match value {
        Value::String(text) => text
            .parse()
            .map_err(|e: muster_model::duration::DurationError| e.to_string()),
        Value::Number(n) => n
            .as_u64()
            .map(muster_model::HumanDuration::from_secs)
            .ok_or_else(|| format!("{n} is not a whole number of seconds")),
        other => Err(format!("expected a duration like 30s, got {other}")),
    };
    parsed
        .map(|d| d.as_duration())
        .map_err(|e| ActionError::permanent(format!("option `{name}`: {e}")))
}
