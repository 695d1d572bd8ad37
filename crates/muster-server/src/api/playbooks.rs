//! Playbook routes: import (YAML or JSON), list, show, export, enable, disable, delete.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_engine::{CompiledPlaybook, Engine};
use muster_store::PlaybookRecord;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiPath, ApiQuery};
use crate::body::{is_json_type, media_type, parse_json, read_body, utf8};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::{PlaybookDetail, PlaybookList, PlaybookSummary};

/// Media types accepted for YAML playbooks.
const YAML_TYPES: [&str; 4] = [
    "application/yaml",
    "text/yaml",
    "application/x-yaml",
    "text/plain",
];

/// Options of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file name diagnostics refer to (default: `playbook.yaml` or `playbook.json`).
    pub file: Option<String>,
}

/// Creates a playbook, or stores a new version of it.
///
/// The body is the playbook as YAML (`application/yaml`, `text/yaml`, `application/x-yaml`,
/// `text/plain`) or as a JSON object (`application/json`). Answers 201 when a new version was
/// stored, 200 when the document equals the current version. Nothing is stored when the
/// playbook is invalid (422 with every problem found).
#[utoipa::path(
    post,
    path = "/playbooks",
    tag = "playbooks",
    params(ImportQuery),
    request_body(
        description = "The playbook document",
        content(("application/yaml"), ("text/yaml"), ("text/plain"), (Object = "application/json"))
    ),
    responses(
        (status = 201, description = "A new version was stored", body = PlaybookSummary),
        (status = 200, description = "The document equals the current version", body = PlaybookSummary),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 413, description = "Document larger than the limit", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid playbook; `diagnostics` lists every problem", body = ErrorBody),
    )
)]
pub async fn create_playbook(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let document = playbook_text(&state, query.file, &headers, body).await?;
    import(&state, document, None).await
}

/// Creates or replaces the named playbook; the document's `name` must match the URL.
#[utoipa::path(
    put,
    path = "/playbooks/{name}",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name"), ImportQuery),
    request_body(
        description = "The playbook document",
        content(("application/yaml"), ("text/yaml"), ("text/plain"), (Object = "application/json"))
    ),
    responses(
        (status = 201, description = "A new version was stored", body = PlaybookSummary),
        (status = 200, description = "The document equals the current version", body = PlaybookSummary),
        (status = 400, description = "Unreadable body, or the document names another playbook", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 413, description = "Document larger than the limit", body = ErrorBody),
        (status = 415, description = "Unsupported content type", body = ErrorBody),
        (status = 422, description = "Invalid playbook; `diagnostics` lists every problem", body = ErrorBody),
    )
)]
pub async fn replace_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let document = playbook_text(&state, query.file, &headers, body).await?;
    import(&state, document, Some(&name)).await
}

/// Every playbook's current version.
#[utoipa::path(
    get,
    path = "/playbooks",
    tag = "playbooks",
    responses(
        (status = 200, description = "All playbooks, by name", body = PlaybookList),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
    )
)]
pub async fn list_playbooks(State(state): State<AppState>) -> Result<Json<PlaybookList>, ApiError> {
    let records = state.store().playbooks().await?;
    let mut items = Vec::with_capacity(records.len());
    for record in &records {
        let compiled = compiled_version(&state, record).await.ok();
        items.push(PlaybookSummary::new(
            record,
            compiled.as_deref(),
            &state.engine,
        ));
    }
    Ok(Json(PlaybookList {
        total: items.len() as u64,
        items,
    }))
}

/// A playbook's current version with its definition.
#[utoipa::path(
    get,
    path = "/playbooks/{name}",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name")),
    responses(
        (status = 200, description = "The playbook", body = PlaybookDetail),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
    )
)]
pub async fn get_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PlaybookDetail>, ApiError> {
    let record = record(&state, &name).await?;
    let compiled = compiled_version(&state, &record).await?;
    let definition = serde_json::to_value(&compiled.playbook)
        .map_err(|err| ApiError::internal(format!("cannot render playbook {name}: {err}")))?;
    Ok(Json(PlaybookDetail {
        summary: PlaybookSummary::new(&record, Some(&compiled), &state.engine),
        definition,
    }))
}

/// The current version as canonical YAML (export → import → export is byte-identical).
#[utoipa::path(
    get,
    path = "/playbooks/{name}/export",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name")),
    responses(
        (status = 200, description = "The canonical YAML document", content_type = "application/yaml", body = String),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
    )
)]
pub async fn export_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = record(&state, &name).await?;
    let disposition = format!(
        "attachment; filename=\"{}.yaml\"",
        record.name.replace('"', "")
    );
    let mut response = record.source.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/yaml; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Deletes a playbook. Its past runs stay until retention prunes them.
#[utoipa::path(
    delete,
    path = "/playbooks/{name}",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
    )
)]
pub async fn delete_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state.engine.delete_playbook(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&name))
    }
}

/// Enables a playbook: its triggers start runs again.
#[utoipa::path(
    post,
    path = "/playbooks/{name}/enable",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name")),
    responses(
        (status = 200, description = "The playbook, enabled", body = PlaybookSummary),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
    )
)]
pub async fn enable_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PlaybookSummary>, ApiError> {
    set_enabled(&state, &name, true).await
}

/// Disables a playbook: its triggers refuse new runs (webhooks answer 409); runs already
/// started go on.
#[utoipa::path(
    post,
    path = "/playbooks/{name}/disable",
    tag = "playbooks",
    params(("name" = String, Path, description = "Playbook name")),
    responses(
        (status = 200, description = "The playbook, disabled", body = PlaybookSummary),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
    )
)]
pub async fn disable_playbook(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PlaybookSummary>, ApiError> {
    set_enabled(&state, &name, false).await
}

async fn set_enabled(
    state: &AppState,
    name: &str,
    enabled: bool,
) -> Result<Json<PlaybookSummary>, ApiError> {
    if !state.engine.set_enabled(name, enabled).await? {
        return Err(not_found(name));
    }
    let record = record(state, name).await?;
    let compiled = compiled_version(state, &record).await.ok();
    Ok(Json(PlaybookSummary::new(
        &record,
        compiled.as_deref(),
        &state.engine,
    )))
}

/// A playbook document as received.
struct Document {
    /// The name diagnostics refer to.
    file: String,
    /// The text as sent.
    text: String,
    /// For JSON: the same document re-serialised by a JSON writer, tried when the text as sent
    /// does not load (JSON that YAML reads differently, such as `\ud83d` surrogate escapes).
    normalised: Option<String>,
}

/// Reads a playbook document from the request as text.
async fn playbook_text(
    state: &AppState,
    file: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Document, ApiError> {
    let media = media_type(headers);
    let json = match media.as_deref() {
        Some(media) if is_json_type(media) => true,
        Some(media) if YAML_TYPES.contains(&media) => false,
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "a playbook must be sent as YAML ({}) or JSON (application/json), not {}",
                YAML_TYPES.join(", "),
                other.map_or("a body without Content-Type".to_string(), |m| format!(
                    "`{m}`"
                ))
            )));
        }
    };
    let bytes = read_body(headers, body, state.config.max_playbook_bytes).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send the playbook document",
        ));
    }
    let file = file.unwrap_or_else(|| {
        if json {
            "playbook.json"
        } else {
            "playbook.yaml"
        }
        .to_string()
    });
    let text = utf8(&bytes)?.to_string();
    if !json {
        return Ok(Document {
            file,
            text,
            normalised: None,
        });
    }
    // Checked as JSON first for a precise 400; then loaded as sent (JSON is YAML), so that
    // diagnostics point at the lines the client sent.
    let value = parse_json(&bytes)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "a JSON playbook must be an object with `name` and `actions`",
        ));
    }
    let normalised = serde_json::to_string_pretty(&value)
        .ok()
        .filter(|n| *n != text);
    Ok(Document {
        file,
        text,
        normalised,
    })
}

/// Validates the document as sent, then (for JSON) its normalised form. When both fail, the
/// problems of the text as sent are reported, unless that text did not even parse as YAML.
fn validate(engine: &Engine, document: Document) -> Result<(CompiledPlaybook, Document), ApiError> {
    let first = match engine.validate(&document.file, &document.text) {
        Ok(compiled) => return Ok((compiled, document)),
        Err(diagnostics) => diagnostics,
    };
    let Some(normalised) = document.normalised.clone() else {
        return Err(ApiError::invalid_playbook(&first));
    };
    match engine.validate(&document.file, &normalised) {
        Ok(compiled) => Ok((
            compiled,
            Document {
                text: normalised,
                normalised: None,
                ..document
            },
        )),
        Err(second) => {
            let syntax_error = first.iter().any(|d| d.message.starts_with("invalid YAML"));
            Err(ApiError::invalid_playbook(if syntax_error {
                &second
            } else {
                &first
            }))
        }
    }
}

/// Validates and stores a document; `expected` is the name the URL gives, if any.
async fn import(
    state: &AppState,
    document: Document,
    expected: Option<&str>,
) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    // Loading parses and compiles every expression: keep it off the async workers.
    let (compiled, document) = tokio::task::spawn_blocking(move || validate(&engine, document))
        .await
        .map_err(|err| ApiError::internal(format!("validation did not finish: {err}")))??;
    let name = compiled.name().to_string();
    if let Some(expected) = expected
        && expected != name
    {
        return Err(ApiError::bad_request(format!(
            "the document defines playbook `{name}` but the URL names `{expected}`"
        )));
    }
    let previous = state.store().playbook(&name).await?.map(|r| r.version);
    let installed = state.engine.install(&document.file, &document.text).await?;
    let summary = PlaybookSummary::new(&installed.record, Some(&installed.compiled), &state.engine);
    if previous == Some(installed.record.version) {
        return Ok(Json(summary).into_response());
    }
    let mut response = (StatusCode::CREATED, Json(summary)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/playbooks/{name}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn record(state: &AppState, name: &str) -> Result<PlaybookRecord, ApiError> {
    state
        .store()
        .playbook(name)
        .await?
        .ok_or_else(|| not_found(name))
}

/// The compiled form of the stored version (the engine caches compiled versions).
async fn compiled_version(
    state: &AppState,
    record: &PlaybookRecord,
) -> Result<Arc<CompiledPlaybook>, ApiError> {
    if let Some((current, _)) = state.engine.playbook(&record.name)
        && current.version == record.version
    {
        return Ok(current);
    }
    Ok(state
        .engine
        .playbook_version(&record.name, record.version)
        .await?)
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("playbook `{name}` not found"))
}
