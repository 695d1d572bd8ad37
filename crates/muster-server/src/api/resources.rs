//! Resource routes: named non-secret JSON values that playbooks read as
//! `{{ resources.NAME }}` (a blocklist, an escalation address, a threshold).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use muster_model::expr::valid_name;
use muster_store::ResourceRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::body::read_json_object;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::time;

/// A resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceView {
    pub name: String,
    /// Any JSON value but `null`: a string, number, boolean, list or object.
    pub value: Value,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ResourceRecord> for ResourceView {
    fn from(record: ResourceRecord) -> Self {
        Self {
            name: record.name,
            value: record.value,
            description: record.description,
            created_at: time(record.created_at),
            updated_at: time(record.updated_at),
        }
    }
}

/// Every resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceList {
    pub items: Vec<ResourceView>,
    pub total: u64,
}

/// A resource's value and description.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceWrite {
    /// Any JSON value but `null`.
    pub value: Value,
    #[serde(default)]
    pub description: Option<String>,
}

/// A resource to store, named in the body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NamedResourceWrite {
    /// Letters, digits, `_` and `-`; at most 128.
    pub name: String,
    /// Any JSON value but `null`.
    pub value: Value,
    #[serde(default)]
    pub description: Option<String>,
}

/// Lists resources, by name.
#[utoipa::path(
    get,
    path = "/resources",
    tag = "resources",
    responses(
        (status = 200, description = "All resources", body = ResourceList),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
    )
)]
pub async fn list_resources(State(state): State<AppState>) -> Result<Json<ResourceList>, ApiError> {
    let items: Vec<ResourceView> = state
        .store()
        .resources()
        .await?
        .into_iter()
        .map(ResourceView::from)
        .collect();
    Ok(Json(ResourceList {
        total: items.len() as u64,
        items,
    }))
}

/// Creates or replaces a resource named in the body.
#[utoipa::path(
    post,
    path = "/resources",
    tag = "resources",
    request_body(content = NamedResourceWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ResourceView),
        (status = 200, description = "Replaced", body = ResourceView),
        (status = 400, description = "The body is not a JSON object of `name`, `value` and `description`", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid name or value", body = ErrorBody),
    )
)]
pub async fn create_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut body = read_json_object(&headers, body, state.config.max_payload_bytes).await?;
    let name = match body.remove("name") {
        Some(Value::String(name)) => name,
        Some(_) => return Err(ApiError::bad_request("`name` must be a string")),
        None => return Err(ApiError::bad_request("the resource needs a `name`")),
    };
    put(&state, name, body).await
}

/// Creates or replaces a resource.
#[utoipa::path(
    put,
    path = "/resources/{name}",
    tag = "resources",
    params(("name" = String, Path, description = "Resource name")),
    request_body(content = ResourceWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ResourceView),
        (status = 200, description = "Replaced", body = ResourceView),
        (status = 400, description = "The body is not a JSON object of `value` and `description`", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Invalid name or value", body = ErrorBody),
    )
)]
pub async fn replace_resource(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_json_object(&headers, body, state.config.max_payload_bytes).await?;
    put(&state, name, body).await
}

/// One resource.
#[utoipa::path(
    get,
    path = "/resources/{name}",
    tag = "resources",
    params(("name" = String, Path, description = "Resource name")),
    responses(
        (status = 200, description = "The resource", body = ResourceView),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
    )
)]
pub async fn get_resource(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ResourceView>, ApiError> {
    let record = state
        .store()
        .resource(&name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(Json(record.into()))
}

/// Deletes a resource. Playbooks that read it see it undefined.
#[utoipa::path(
    delete,
    path = "/resources/{name}",
    tag = "resources",
    params(("name" = String, Path, description = "Resource name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
    )
)]
pub async fn delete_resource(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.store().delete_resource(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Stores `{value, description}` under `name`: 201 when new, 200 when replaced.
async fn put(
    state: &AppState,
    name: String,
    mut body: Map<String, Value>,
) -> Result<Response, ApiError> {
    if !valid_name(&name) {
        return Err(ApiError::unprocessable(
            "invalid_resource",
            format!(
                "`{name}` is not a valid resource name (letters, digits, `_` and `-`, at most 128)"
            ),
        ));
    }
    let value = match body.remove("value") {
        Some(Value::Null) => {
            return Err(ApiError::unprocessable(
                "invalid_resource",
                format!(
                    "resource `{name}`: the value may not be null (delete the resource instead)"
                ),
            ));
        }
        Some(value) => value,
        None => {
            return Err(ApiError::bad_request(format!(
                "resource `{name}`: the body needs a `value` (`{{\"value\": …, \"description\": …}}`)"
            )));
        }
    };
    let description = match body.remove("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => return Err(ApiError::bad_request("`description` must be a string")),
    };
    if let Some(key) = body.keys().next() {
        return Err(ApiError::bad_request(format!(
            "unknown field `{key}`: a resource is `{{\"value\": …, \"description\": …}}`"
        )));
    }
    let existed = state.store().resource(&name).await?.is_some();
    let record = state
        .store()
        .put_resource(&name, &value, description.as_deref())
        .await?;
    let view = ResourceView::from(record);
    if existed {
        return Ok(Json(view).into_response());
    }
    let location = format!("/api/v1/resources/{name}");
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("resource `{name}` not found"))
}
