//! Reading request bodies: size limits that answer 413 before anything is stored, media
//! types, UTF-8 and JSON with errors that say where the problem is.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Reads the whole body, refusing more than `limit` bytes (at once when `Content-Length`
/// already says so).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
            while let Some(current) = cause {
                if current.is::<LengthLimitError>() {
                    return Err(ApiError::too_large(limit));
                }
                cause = current.source();
            }
            Err(ApiError::bad_request(format!(
                "could not read the request body: {err}"
            )))
        }
    }
}

/// The media type of the request without parameters, lower-cased (`application/json`).
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    (!essence.is_empty()).then(|| essence.to_ascii_lowercase())
}

/// Whether a media type is JSON (`application/json` or a `+json` type).
pub fn is_json_type(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The body as UTF-8 text.
pub fn utf8(bytes: &Bytes) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|err| {
        ApiError::bad_request(format!(
            "the request body is not valid UTF-8 (invalid byte at offset {})",
            err.valid_up_to()
        ))
    })
}

/// Parses JSON, naming the line and column of the first problem.
pub fn parse_json(bytes: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON: {} at line {} column {}",
            describe_json_error(&err),
            err.line(),
            err.column()
        ))
    })
}

/// Reads a JSON object body (no content type, or a JSON one), up to `limit` bytes.
pub async fn read_json_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(media) = media_type(headers)
        && !is_json_type(&media)
    {
        return Err(ApiError::unsupported_media_type(format!(
            "the body must be JSON (application/json), not `{media}`"
        )));
    }
    match parse_json(&read_body(headers, body, limit).await?)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

/// serde_json's message without its own " at line X column Y" suffix.
fn describe_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let headers = HeaderMap::new();
        let body = Body::from(vec![b'x'; 11]);
        let err = read_body(&headers, body, 10).await.unwrap_err();
        assert_eq!(err.status, 413);
        let ok = read_body(&headers, Body::from(vec![b'x'; 10]), 10)
            .await
            .unwrap();
        assert_eq!(ok.len(), 10);
    }

    #[tokio::test]
    async fn declared_lengths_over_the_limit_are_refused_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1000"));
        let err = read_body(&headers, Body::empty(), 10).await.unwrap_err();
        assert_eq!(err.status, 413);
    }

    #[test]
    fn media_types_drop_parameters() {
        let mut headers = HeaderMap::new();
        assert_eq!(media_type(&headers), None);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert_eq!(media_type(&headers).as_deref(), Some("application/json"));
        assert!(is_json_type("application/json"));
        assert!(is_json_type("application/vnd.api+json"));
        assert!(!is_json_type("text/plain"));
    }

    #[test]
    fn json_errors_name_the_position() {
        let err = parse_json(&Bytes::from_static(b"{\n  \"a\": }")).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.body.message.contains("line 2 column"),
            "{}",
            err.body.message
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = utf8(&Bytes::from_static(b"ab\xffcd")).unwrap_err();
        assert!(
            err.body.message.contains("offset 2"),
            "{}",
            err.body.message
        );
    }
}
