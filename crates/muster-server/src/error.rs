//! The one error shape of the API: `{"code": "...", "message": "..."}` with the matching
//! HTTP status, plus `diagnostics` for invalid playbooks and `run_id` for failed runs.
//!
//! Handlers return [`ApiError`]; engine and store errors convert into it, and the
//! [`json_errors`] middleware turns the few responses produced outside handlers (unknown
//! routes, wrong methods, the global body limit) into the same shape.

use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use muster_engine::{CredentialError, EngineError};
use muster_model::load::Diagnostic;
use muster_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code (`not_found`, `invalid_playbook`, `run_failed`, …).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Every problem found in an invalid playbook (only with `invalid_playbook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<DiagnosticView>>,
    /// The run concerned (with `run_failed` and `duplicate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// One problem in a playbook document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DiagnosticView {
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    pub message: String,
    /// A one-line suggestion that fixes the problem.
    pub hint: Option<String>,
}

impl From<&Diagnostic> for DiagnosticView {
    fn from(d: &Diagnostic) -> Self {
        Self {
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            message: d.message.clone(),
            hint: d.hint.clone(),
        }
    }
}

/// An error answered to the client (boxed: results stay small on the happy path).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorParts>);

/// What an [`ApiError`] answers.
#[derive(Debug, Clone)]
pub struct ErrorParts {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Extra response headers (`Allow` for 405, `WWW-Authenticate` for 401).
    pub headers: HeaderMap,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorParts;
    fn deref(&self) -> &ErrorParts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorParts {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorParts {
            status,
            body: ErrorBody {
                code: code.to_string(),
                message: message.into(),
                diagnostics: None,
                run_id: None,
            },
            headers: HeaderMap::new(),
        }))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        error
            .headers
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        error
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn method_not_allowed(message: impl Into<String>, allowed: &[String]) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        );
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            error.headers.insert(header::ALLOW, value);
        }
        error
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn invalid_playbook(diagnostics: &[Diagnostic]) -> Self {
        let first = diagnostics
            .first()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_playbook",
            format!(
                "the playbook is invalid ({} problem(s)){first}",
                diagnostics.len()
            ),
        );
        error.body.diagnostics = Some(diagnostics.iter().map(DiagnosticView::from).collect());
        error
    }

    /// A well-formed request whose content is invalid (`code` names what: `invalid_credential`,
    /// `invalid_resource`).
    pub fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ErrorParts {
            status,
            body,
            headers,
        } = *self.0;
        // 502 (a failed run) and 503 (not ready) are outcomes the client is told about, not
        // faults of the server.
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status = %status, code = %body.code, message = %body.message, "request failed");
        }
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().extend(headers);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } => ApiError::not_found(err.to_string()),
            StoreError::Conflict(_) | StoreError::LostClaim { .. } => {
                ApiError::conflict("conflict", err.to_string())
            }
            StoreError::Duplicate { ref run_id, .. } => {
                let mut error = ApiError::conflict("duplicate", err.to_string());
                error.body.run_id = Some(run_id.clone());
                error
            }
            StoreError::Invalid(_) => ApiError::bad_request(err.to_string()),
            StoreError::Closed => ApiError::unavailable(err.to_string()),
            StoreError::Database(_) => ApiError::internal(err.to_string()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Invalid(diagnostics) => ApiError::invalid_playbook(&diagnostics),
            EngineError::UnknownPlaybook(_) | EngineError::UnknownRun(_) => {
                ApiError::not_found(err.to_string())
            }
            EngineError::Disabled(_) => ApiError::conflict("playbook_disabled", err.to_string()),
            EngineError::BadRequest(message) => ApiError::bad_request(message),
            EngineError::Duplicate { ref run_id } => {
                let mut error = ApiError::conflict("duplicate", err.to_string());
                error.body.run_id = Some(run_id.clone());
                error
            }
            EngineError::StoredPlaybookInvalid { .. } => ApiError::internal(err.to_string()),
            EngineError::Store(store) => store.into(),
        }
    }
}

impl From<CredentialError> for ApiError {
    fn from(err: CredentialError) -> Self {
        match err {
            CredentialError::NotFound(_) => ApiError::not_found(err.to_string()),
            CredentialError::Invalid(message) => {
                ApiError::unprocessable("invalid_credential", message)
            }
            CredentialError::NoKey => ApiError::unavailable(err.to_string()),
            CredentialError::Store(store) => store.into(),
            CredentialError::MasterKey(_) | CredentialError::Sealed(_) => {
                ApiError::internal(err.to_string())
            }
            CredentialError::NotAllowed { .. }
            | CredentialError::NoField { .. }
            | CredentialError::TokenOnly { .. } => {
                ApiError::unprocessable("invalid_credential", err.to_string())
            }
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

/// The error code used for a status when nothing more specific is known.
pub fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "error",
    }
}

/// Error bodies produced outside handlers are read up to this size to reuse their text.
const MAX_REWRITTEN_BODY: usize = 16 * 1024;

/// Rewrites error responses that are not JSON (an unknown route, a method the route does not
/// accept, the global body limit) into the API's error shape, keeping status and headers.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REWRITTEN_BODY)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_string())
        .unwrap_or_default();
    let message = match status {
        StatusCode::NOT_FOUND => format!("no route for {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than the server's limit".to_string()
        }
        _ if !text.is_empty() => text,
        _ => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    };
    let body = ErrorBody {
        code: code_for(status).to_string(),
        message,
        diagnostics: None,
        run_id: None,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The answer when a handler panicked: a 500 in the API's shape (the panic is logged).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %detail, "a request handler panicked");
    ApiError::internal("the server failed while handling this request; see its log").into_response()
}
