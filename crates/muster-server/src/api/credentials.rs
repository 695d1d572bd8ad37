//! Credential routes: create or replace, list, show, rotate, delete.
//!
//! Values go in and never come out: every answer is a [`CredentialView`] (name, type, allowed
//! domains, description, times), and no message names a value — the engine's messages never
//! quote one, and this module only adds names and field names.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use muster_engine::Secret;
use muster_engine::credentials::{CredentialInfo, NewCredential};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::body::read_json_object;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::time;

/// A credential without its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CredentialView {
    pub name: String,
    /// `text`, `basic`, `header`, `oauth2_client_credentials`, `http_token` or `jwt`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Hosts the value may be sent to (`api.example.com`, `*.example.com`, an IP address).
    pub allowed_domains: Vec<String>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the credential was last written (created, replaced or rotated).
    pub updated_at: DateTime<Utc>,
    /// When the value was last replaced by a rotation.
    pub rotated_at: Option<DateTime<Utc>>,
}

impl From<CredentialInfo> for CredentialView {
    fn from(info: CredentialInfo) -> Self {
        Self {
            name: info.name,
            kind: info.kind,
            allowed_domains: info.allowed_domains,
            description: info.description,
            created_at: time(info.created_at),
            updated_at: time(info.updated_at),
            rotated_at: info.rotated_at.map(time),
        }
    }
}

/// Every credential, without values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CredentialList {
    pub items: Vec<CredentialView>,
    pub total: u64,
}

/// A credential to store. The value is `value` (for `text`), or the type's own fields beside
/// `type` (`username` and `password` for `basic`, …), or those fields as an object in `value`
/// (the only way for a `header` credential, whose header `name` would clash with the
/// credential's).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CredentialWrite {
    /// Letters, digits, `_` and `-`; at most 128.
    pub name: String,
    /// `text`, `basic`, `header`, `oauth2_client_credentials`, `http_token` or `jwt`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The secret (`text`, `header`), or an object of the type's fields.
    #[serde(default)]
    pub value: Option<Value>,
    /// Where the value may be sent; at least one.
    pub allowed_domains: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The type's other fields (`username`, `password`, `token_url`, `client_id`, …).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// A new value for a credential, shaped as in `CredentialWrite` without `name`,
/// `allowed_domains` and `description` (so a `header` credential's header `name` may stand
/// beside `value` here).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CredentialRotate {
    /// The type (default: the current one).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The secret (`text`, `header`), or an object of the type's fields.
    #[serde(default)]
    pub value: Option<Value>,
    /// The type's other fields.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// Lists credentials, by name. Values are never included.
#[utoipa::path(
    get,
    path = "/credentials",
    tag = "credentials",
    responses(
        (status = 200, description = "All credentials, without values", body = CredentialList),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
    )
)]
pub async fn list_credentials(
    State(state): State<AppState>,
) -> Result<Json<CredentialList>, ApiError> {
    let items: Vec<CredentialView> = state
        .engine
        .credentials()
        .list()
        .await?
        .into_iter()
        .map(CredentialView::from)
        .collect();
    Ok(Json(CredentialList {
        total: items.len() as u64,
        items,
    }))
}

/// Creates or replaces a credential; the value is sealed under the master key and never
/// returned.
#[utoipa::path(
    post,
    path = "/credentials",
    tag = "credentials",
    request_body(content = CredentialWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = CredentialView),
        (status = 200, description = "Replaced (value, type, allowed domains and description)", body = CredentialView),
        (status = 400, description = "The body is not a JSON object, or a field has the wrong JSON type", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid name, type, fields or allowed domains", body = ErrorBody),
    )
)]
pub async fn set_credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut body = read_json_object(&headers, body, state.config.max_payload_bytes).await?;
    let name = take_string(&mut body, "name")?
        .ok_or_else(|| ApiError::bad_request("the credential needs a `name`"))?;
    let allowed_domains = take_domains(&mut body)?;
    let description = take_string(&mut body, "description")?;
    let secret = secret(&name, fields(body)?)?;
    let credentials = state.engine.credentials();
    let existed = credentials.get(&name).await?.is_some();
    let info = credentials
        .set(NewCredential {
            name,
            secret,
            allowed_domains,
            description,
        })
        .await?;
    if existed {
        return Ok(Json(CredentialView::from(info)).into_response());
    }
    let location = format!("/api/v1/credentials/{}", info.name);
    let mut response = (StatusCode::CREATED, Json(CredentialView::from(info))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One credential, without its value.
#[utoipa::path(
    get,
    path = "/credentials/{name}",
    tag = "credentials",
    params(("name" = String, Path, description = "Credential name")),
    responses(
        (status = 200, description = "The credential, without its value", body = CredentialView),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such credential", body = ErrorBody),
    )
)]
pub async fn get_credential(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<CredentialView>, ApiError> {
    let info = state
        .engine
        .credentials()
        .get(&name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(info.into()))
}

/// Replaces a credential's value, keeping its allowed domains and description.
#[utoipa::path(
    post,
    path = "/credentials/{name}/rotate",
    tag = "credentials",
    params(("name" = String, Path, description = "Credential name")),
    request_body(content = CredentialRotate, content_type = "application/json"),
    responses(
        (status = 200, description = "Rotated", body = CredentialView),
        (status = 400, description = "The body is not a JSON object, or it tries to change more than the value", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such credential", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid type or fields", body = ErrorBody),
    )
)]
pub async fn rotate_credential(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CredentialView>, ApiError> {
    let mut body = read_json_object(&headers, body, state.config.max_payload_bytes).await?;
    let credentials = state.engine.credentials();
    let current = credentials
        .get(&name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    for kept in ["allowed_domains", "description"] {
        if body.contains_key(kept) {
            return Err(ApiError::bad_request(format!(
                "a rotation replaces only the value (and type); `{kept}` is kept — change it \
                 with POST /api/v1/credentials"
            )));
        }
    }
    if !body.contains_key("type") {
        body.insert("type".into(), Value::String(current.kind));
    }
    let secret = secret(&name, fields(body)?)?;
    Ok(Json(credentials.rotate(&name, secret).await?.into()))
}

/// Deletes a credential. Playbooks that use it fail at the step that does.
#[utoipa::path(
    delete,
    path = "/credentials/{name}",
    tag = "credentials",
    params(("name" = String, Path, description = "Credential name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such credential", body = ErrorBody),
    )
)]
pub async fn delete_credential(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.engine.credentials().delete(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// The value's fields with `type`: those beside it, merged with those of an object `value`.
fn fields(mut body: Map<String, Value>) -> Result<Value, ApiError> {
    if let Some(Value::Object(inner)) = body.get("value") {
        let inner = inner.clone();
        body.remove("value");
        for (key, value) in inner {
            if body.contains_key(&key) {
                return Err(ApiError::bad_request(format!(
                    "`{key}` is given both in `value` and beside it"
                )));
            }
            body.insert(key, value);
        }
    }
    Ok(Value::Object(body))
}

fn secret(name: &str, fields: Value) -> Result<Secret, ApiError> {
    Secret::from_json(fields).map_err(|problem| {
        ApiError::unprocessable(
            "invalid_credential",
            format!("credential `{name}`: {problem}"),
        )
    })
}

/// Removes `key` from the body: a string, or absent (`null` counts as absent).
fn take_string(body: &mut Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::bad_request(format!("`{key}` must be a string"))),
    }
}

fn take_domains(body: &mut Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let wrong = || {
        ApiError::bad_request(
            "`allowed_domains` must be a list of host names (`[\"api.example.com\", \
             \"*.example.com\"]`)",
        )
    };
    match body.remove("allowed_domains") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(domain) => Ok(domain),
                _ => Err(wrong()),
            })
            .collect(),
        Some(_) => Err(wrong()),
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("credential `{name}` not found"))
}
