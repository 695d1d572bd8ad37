//! The trigger event of a webhook request: `{method, path, headers, query, body}`.
//!
//! Header names are lower-case; credentials (`authorization`, `proxy-authorization`,
//! `x-muster-secret`, `cookie`) are dropped so that they are never stored in an event.
//! JSON bodies are parsed, other bodies are kept as text, an empty body is `null`.
//!
//! A `message/rfc822` body (a "report phishing" button posting the email) is also taken apart
//! into `email`, the document `parse_email` emits, from the exact bytes received. Mail may
//! carry 8-bit text in any charset, so such a body is never refused for not being UTF-8:
//! `body` is then its base64 (which `parse_email` recognises) and `body_encoding` says which
//! of `text` or `base64` it is.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine as _;
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
    let mut output = json!({
        "method": method.as_str(),
        "path": path,
        "headers": header_map(headers),
        "query": query_map(uri)?,
        "body": Value::Null,
    });
    if media_type(headers).as_deref() == Some(RFC822) && !body.is_empty() {
        let (text, encoding) = match std::str::from_utf8(body) {
            Ok(text) => (text.to_string(), "text"),
            Err(_) => (
                base64::engine::general_purpose::STANDARD.encode(body),
                "base64",
            ),
        };
        let report = muster_intel::email::parse(body);
        output["body"] = Value::String(text);
        output["body_encoding"] = Value::String(encoding.into());
        output["email"] = serde_json::to_value(&report)
            .map_err(|err| ApiError::internal(format!("cannot record the email: {err}")))?;
    } else {
        output["body"] = parse_body(headers, body)?;
    }
    Ok(output)
}

/// The media type of a raw email.
const RFC822: &str = "message/rfc822";

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
    fn a_raw_email_is_parsed_and_kept_losslessly() {
        let uri: Uri = "/hooks/phish".parse().unwrap();
        let email = headers(&[("content-type", "message/rfc822")]);
        let latin1 = b"From: a@example.com\r\nSubject: caf\xe9\r\n\r\nbody";
        let out = trigger_output(
            &Method::POST,
            "phish",
            &uri,
            &email,
            &Bytes::from_static(latin1),
        )
        .unwrap();
        assert_eq!(out["body_encoding"], "base64");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(out["body"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, latin1);
        assert_eq!(out["email"]["from"]["address"], "a@example.com");
        let utf8 = Bytes::from_static(b"Subject: hi\r\n\r\nbody");
        let out = trigger_output(&Method::POST, "phish", &uri, &email, &utf8).unwrap();
        assert_eq!(out["body"], "Subject: hi\r\n\r\nbody");
        assert_eq!(out["body_encoding"], "text");
        assert_eq!(out["email"]["subject"], "hi");
        let json_headers = headers(&[("content-type", "application/json")]);
        let out = trigger_output(
            &Method::POST,
            "a",
            &uri,
            &json_headers,
            &Bytes::from_static(b"{}"),
        )
        .unwrap();
        assert!(out.get("email").is_none() && out.get("body_encoding").is_none());
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
            parse_body(&HeaderMap::new(), &Bytes::from_static(b"\xff\xfe"))
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
