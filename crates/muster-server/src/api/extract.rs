//! Extractors whose failures answer in the API's error shape.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};

use crate::error::ApiError;

/// Path parameters; a mismatch answers 400 in the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; unknown values or wrong types answer 400 in the API's error shape.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Parses an identifier from a path, naming what was expected.
pub fn parse_id<T: FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("`{text}` is not a valid {what} id (a UUID)")))
}
