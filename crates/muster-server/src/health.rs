//! `/healthz` (the process answers) and `/readyz` (the store answers too).

use axum::extract::State;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive", content_type = "text/plain", body = String, example = "ok"))
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers, so requests can be served.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", content_type = "text/plain", body = String, example = "ready"),
        (status = 503, description = "The store does not answer", body = ErrorBody),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    match state.store().ping().await {
        Ok(()) => Ok("ready"),
        Err(err) => Err(ApiError::unavailable(format!(
            "the store does not answer: {err}"
        ))),
    }
}
