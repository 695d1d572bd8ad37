//! `Idempotency-Key`: a key chosen by the client so that retries of one request start at most
//! one run per playbook and trigger. A repeated key answers 200 with the first run's id and
//! `"duplicate": true` instead of starting another run.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";

/// The longest key accepted.
pub const MAX_LEN: usize = 200;

/// The answer to a request whose key was used before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DuplicateRun {
    /// The run the first request with this key started.
    pub run_id: String,
    pub duplicate: bool,
}

/// The request's idempotency key, if it sends one.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be visible ASCII"))?
        .trim();
    if key.is_empty() || key.len() > MAX_LEN {
        return Err(ApiError::bad_request(format!(
            "the Idempotency-Key header must hold 1 to {MAX_LEN} characters"
        )));
    }
    Ok(Some(key.to_string()))
}

/// 200 with the first run's id.
pub fn duplicate(run_id: String) -> Response {
    (
        StatusCode::OK,
        Json(DuplicateRun {
            run_id,
            duplicate: true,
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn keys_are_trimmed_and_bounded() {
        let mut headers = HeaderMap::new();
        assert_eq!(key(&headers).unwrap(), None);
        headers.insert(HEADER, HeaderValue::from_static(" alert-17 "));
        assert_eq!(key(&headers).unwrap().as_deref(), Some("alert-17"));
        headers.insert(HEADER, HeaderValue::from_static("  "));
        assert_eq!(key(&headers).unwrap_err().status, 400);
        headers.insert(HEADER, HeaderValue::from_str(&"k".repeat(201)).unwrap());
        assert_eq!(key(&headers).unwrap_err().status, 400);
    }
}
