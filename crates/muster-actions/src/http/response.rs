//! Turning a fetched response into `http_request` output: headers as an object, the body as
//! JSON or text, with a clear error when JSON was asked for and something else arrived.

use muster_engine::ActionError;
use muster_engine::credentials::Redactor;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Map, Value};

use super::send::Fetched;

/// How to read a response body (`response` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// JSON when the content type says so (falling back to text), else text.
    Auto,
    /// JSON, or an error.
    Json,
    /// Text.
    Text,
}

impl BodyMode {
    pub fn parse(text: Option<&str>) -> Result<Self, ActionError> {
        match text.unwrap_or("auto") {
            "auto" => Ok(BodyMode::Auto),
            "json" => Ok(BodyMode::Json),
            "text" => Ok(BodyMode::Text),
            other => Err(ActionError::permanent(format!(
                "option `response` must be `auto`, `json` or `text`, got `{other}`"
            ))),
        }
    }
}

/// The body as a JSON value. `redactor` hides secrets in the start of the body that an
/// error quotes (before it is cut, so that no partial secret is left to escape redaction).
pub fn body_value(
    fetched: &Fetched,
    mode: BodyMode,
    redactor: &Redactor,
) -> Result<Value, ActionError> {
    let bytes = &fetched.body;
    let text = || Value::String(String::from_utf8_lossy(bytes).into_owned());
    let content_type = content_type(&fetched.headers);
    match mode {
        BodyMode::Text => Ok(text()),
        BodyMode::Json => serde_json::from_slice(bytes).map_err(|e| {
            ActionError::permanent(format!(
                "the response from `{}` is not JSON ({}, {}): {e}",
                fetched.url,
                content_type.unwrap_or("no content type"),
                preview(redactor.redact(&String::from_utf8_lossy(bytes)).as_bytes())
            ))
        }),
        BodyMode::Auto => {
            let is_json = content_type.is_some_and(|ct| ct.contains("json"));
            if is_json && !bytes.is_empty() {
                Ok(serde_json::from_slice(bytes).unwrap_or_else(|_| text()))
            } else {
                Ok(text())
            }
        }
    }
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
}

/// A short, printable start of a body for error messages.
fn preview(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty body".into();
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let more = if bytes.len() > 60 { "…" } else { "" };
    format!("it starts with `{}{more}`", clean.trim_end())
}

/// Response headers as an object; repeated headers are joined with `, `.
pub fn header_map(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.as_str().to_string(), Value::String(value));
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn fetched(content_type: &str, body: &str) -> Fetched {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        Fetched {
            status: StatusCode::OK,
            headers,
            url: "https://api.example.com/x".parse().unwrap(),
            body: body.to_string().into(),
        }
    }

    #[test]
    fn json_is_parsed_when_declared_or_asked_for() {
        let json = fetched("application/json; charset=utf-8", "{\"a\":1}");
        assert_eq!(
            body_value(&json, BodyMode::Auto, &Redactor::default()).unwrap(),
            serde_json::json!({"a": 1})
        );
        let plain = fetched("text/plain", "{\"a\":1}");
        assert_eq!(
            body_value(&plain, BodyMode::Auto, &Redactor::default()).unwrap(),
            Value::String("{\"a\":1}".into())
        );
        assert_eq!(
            body_value(&plain, BodyMode::Json, &Redactor::default()).unwrap(),
            serde_json::json!({"a": 1})
        );
    }

    #[test]
    fn a_body_that_is_not_json_when_json_was_asked_for_is_explained() {
        let html = fetched("text/html", "<html><body>Gateway\ntimeout</body></html>");
        let error = body_value(&html, BodyMode::Json, &Redactor::default()).unwrap_err();
        assert_eq!(error.class, muster_engine::ErrorClass::Permanent);
        assert!(error.message.contains("is not JSON"), "{}", error.message);
        assert!(error.message.contains("text/html"), "{}", error.message);
        assert!(
            error.message.contains("`<html><body>Gateway timeout"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_secret_cut_by_the_quoted_start_is_still_hidden() {
        let redactor = Redactor::default();
        redactor.learn("api", ["0123456789abcdef-secret".to_string()]);
        // The secret starts before the 60th byte and ends after it.
        let body = format!("{}0123456789abcdef-secret and more", "x".repeat(50));
        let error = body_value(&fetched("text/plain", &body), BodyMode::Json, &redactor)
            .unwrap_err()
            .message;
        assert!(error.contains("[redacted:"), "{error}");
        assert!(!error.contains("0123456789"), "{error}");
    }
}
