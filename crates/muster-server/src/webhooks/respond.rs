//! The answer of a webhook with `response: exit`: the run's exit output when it arrives, the
//! final status when the run ends without one, 502 when it fails, 202 when it takes too long.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use muster_engine::RunResult;
use muster_model::RunId;
use muster_store::RunStatus;
use serde_json::json;

use crate::error::ApiError;

/// The answer for `run`, given what waiting for it produced (`None`: the wait timed out).
pub fn exit_response(run: RunId, result: Option<RunResult>) -> Response {
    let still_running = || {
        (
            StatusCode::ACCEPTED,
            Json(json!({"run_id": run.to_string(), "status": "running"})),
        )
            .into_response()
    };
    let Some(result) = result else {
        return still_running();
    };
    match (result.output, result.status) {
        (Some(output), _) => Json(output).into_response(),
        (None, Some(RunStatus::Failed)) => {
            let mut error = ApiError::new(
                StatusCode::BAD_GATEWAY,
                "run_failed",
                result.reason.unwrap_or_else(|| format!("run {run} failed")),
            );
            error.body.run_id = Some(run.to_string());
            error.into_response()
        }
        (None, Some(status)) => {
            Json(json!({"run_id": run.to_string(), "status": status.as_str()})).into_response()
        }
        (None, None) => still_running(),
    }
}
