//! Security intelligence as actions: indicator extraction, email forensics, alert
//! normalisation (the `muster-intel` library).

pub mod extract_iocs;
pub mod normalize;
pub mod parse_email;

use serde_json::Value;

/// Text to analyse from an option value: strings as they are, anything else as JSON.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
