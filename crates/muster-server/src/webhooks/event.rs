//! The trigger event of a webhook request: `{method, path, headers, query, body}`.
//!
//! Header names are lower-case; credentials (`authorization`, `proxy-authorization`,
//! `x-muster-secret`, `cookie`) are dropped so that they are never stored in an event.
//! JSON bodies are parsed, other bodies are kept as text, an empty body is `null`.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::{HeaderMap, Method, Uri};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::body::{is_json_type, media_type, parse_json, utf8};
use crate::error::ApiError;

/// Headers never copied into the event.
const DROPPED_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "x-muster-secret",
    "cookie",
];

/// Builds the trigger event's output.
pub fn trigger_output(
    method: &Method,
    path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, ApiError> {
    Ok(json!({
        "method": method.as_str(),
        "path": path,
        "headers": header_map(headers),
        "query": query_map(uri)?,
        "body": parse_body(headers, body)?,
    }))
}

/// The body as JSON (for JSON media types), text (anything else), or `null` when empty.
pub fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    match media_type(headers) {
        Some(media) if is_json_type(&media) => parse_json(body),
        _ => Ok(Value::String(utf8(body)?.to_string())),
    }
}

/// Header names (lower-case) to values; repeated headers are joined with `, `.
fn header_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut joined: BTreeMap<&str, String> = BTreeMap::new();
    for (name, value) in headers {
        if DROPPED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        joined
            .entry(name.as_str())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    joined
        .into_iter()
        .map(|(name, value)| (name.to_string(), Value::String(value)))
        .collect()
}

/// Query parameters; when a name repeats, the last value wins.
fn query_map(uri: &Uri) -> Result<Map<String, Value>, ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|err| ApiError::bad_request(format!("the query string is invalid: {err}")))?;
    Ok(pairs
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn credentials_are_dropped_and_names_lower_cased() {
        let h = headers(&[
            ("Authorization", "Bearer x"),
            ("X-Muster-Secret", "s"),
            ("Cookie", "a=b"),
            ("X-Event", "push"),
            ("Accept", "a"),
            ("Accept", "b"),
        ]);
        let uri: Uri = "/hooks/a?x=1&y=2&x=3".parse().unwrap();
        let out = trigger_output(&Method::POST, "a", &uri, &h, &Bytes::new()).unwrap();
        assert_eq!(
            out,
            json!({
                "method": "POST",
                "path": "a",
                "headers": {"accept": "a, b", "x-event": "push"},
                "query": {"x": "3", "y": "2"},
                "body": null,
            })
        );
    }

    #[test]
    fn bodies_follow_the_content_type() {
        let json_headers = headers(&[("content-type", "application/json; charset=utf-8")]);
        assert_eq!(
            parse_body(&json_headers, &Bytes::from_static(br#"{"a": [1, 2]}"#)).unwrap(),
            json!({"a": [1, 2]})
        );
        let err = parse_body(&json_headers, &Bytes::from_static(b"{\"a\": ")).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.body.message.contains("line 1"), "{}", err.body.message);
        let email = headers(&[("content-type", "message/rfc822")]);
        assert_eq!(
            parse_body(&email, &Bytes::from_static(b"Subject: hi\r\n\r\nbody")).unwrap(),
            json!("Subject: hi\r\n\r\nbody")
        );
        assert_eq!(
            parse_body(&email, &Bytes::from_static(b"\xff\xfe"))
                .unwrap_err()
                .status,
            400
        );
        // Without a content type, text is kept as text, even if it looks like JSON.
        assert_eq!(
            parse_body(&HeaderMap::new(), &Bytes::from_static(b"{}")).unwrap(),
            json!("{}")
        );
    }
}
