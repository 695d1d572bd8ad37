//! Run routes: start a run by hand, list and filter runs, show one with its events, cancel
//! one, and show a single event.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use muster_engine::{EngineError, TriggerRequest, apply_inputs};
use muster_model::{EventId, RunId};
use muster_store::{RunFilter, RunStatus};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::extract::{ApiPath, ApiQuery, parse_id};
use crate::body::{is_json_type, media_type, parse_json, read_body};
use crate::error::{ApiError, ErrorBody};
use crate::idempotency::{self, DuplicateRun};
use crate::state::AppState;
use crate::views::{EventView, RunDetail, RunList, RunStarted, RunView};

/// The default and largest page sizes of the run list.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Which trigger starts the run.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// The trigger action id (default: the first `manual` trigger, else the first trigger).
    pub trigger: Option<String>,
}

/// Starts a run by hand.
///
/// The body is the JSON payload (an empty body is `{}`), shaped the way the trigger shapes
/// its events: a `manual` trigger emits it as is (checked against the playbook's `inputs:` if
/// it declares any), a `webhook` trigger wraps it as a request body. Answers once the run is
/// durable. With an `Idempotency-Key` header, a repeated request starts no second run.
#[utoipa::path(
    post,
    path = "/playbooks/{name}/runs",
    tag = "runs",
    params(
        ("name" = String, Path, description = "Playbook name"),
        StartQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key start no second run"),
    ),
    request_body(description = "The payload", content((Object = "application/json"))),
    responses(
        (status = 202, description = "The run started", body = RunStarted),
        (status = 200, description = "A run was already started with this `Idempotency-Key`", body = DuplicateRun),
        (status = 400, description = "Malformed payload, unknown trigger or invalid inputs", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such playbook", body = ErrorBody),
        (status = 409, description = "The playbook is disabled", body = ErrorBody),
        (status = 413, description = "Payload larger than the limit", body = ErrorBody),
        (status = 415, description = "The payload is not JSON", body = ErrorBody),
    )
)]
pub async fn start_run(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(media) = media_type(&headers)
        && !is_json_type(&media)
    {
        return Err(ApiError::unsupported_media_type(format!(
            "the payload must be JSON (application/json), not `{media}`"
        )));
    }
    let bytes = read_body(&headers, body, state.config.max_payload_bytes).await?;
    let payload = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        parse_json(&bytes)?
    };
    let (compiled, _) = state
        .engine
        .playbook(&name)
        .ok_or_else(|| ApiError::not_found(format!("playbook `{name}` not found")))?;
    let trigger = match &query.trigger {
        Some(id) => compiled
            .action(id)
            .filter(|a| a.implementation.spec().trigger)
            .ok_or_else(|| {
                let triggers: Vec<&str> = compiled.triggers().map(|t| t.id()).collect();
                ApiError::bad_request(format!(
                    "playbook `{name}` has no trigger `{id}` (its triggers: {})",
                    triggers.join(", ")
                ))
            })?,
        None => compiled
            .default_trigger()
            .ok_or_else(|| ApiError::bad_request(format!("playbook `{name}` has no trigger")))?,
    };
    let payload = if trigger.kind() == "manual" && !compiled.playbook.inputs.is_empty() {
        apply_inputs(&compiled.playbook, payload)
            .map_err(|problem| ApiError::bad_request(format!("invalid inputs: {problem}")))?
    } else {
        payload
    };
    let output = trigger.implementation.trigger_output(&trigger.def, payload);
    let started = state
        .engine
        .trigger(TriggerRequest {
            playbook: name,
            trigger: Some(trigger.id().to_string()),
            output,
            once_key: idempotency::key(&headers)?,
            even_if_disabled: false,
        })
        .await;
    let run = match started {
        Err(EngineError::Duplicate { run_id }) => return Ok(idempotency::duplicate(run_id)),
        started => started?,
    };
    let mut response = (StatusCode::ACCEPTED, Json(RunStarted { run_id: run.0 })).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/runs/{run}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Filters and paging of the run list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListQuery {
    /// Only runs of this playbook.
    pub playbook: Option<String>,
    /// Only runs with this status: `running`, `waiting`, `succeeded`, `failed`, `cancelled`.
    pub status: Option<String>,
    /// Only child runs of this run.
    pub parent_run: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Runs to skip (default 0).
    pub offset: Option<u64>,
}

/// Lists runs, newest first.
#[utoipa::path(
    get,
    path = "/runs",
    tag = "runs",
    params(RunListQuery),
    responses(
        (status = 200, description = "One page of runs and the total number of matches", body = RunList),
        (status = 400, description = "Invalid filter", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
    )
)]
pub async fn list_runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RunListQuery>,
) -> Result<Json<RunList>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let parent_run = query
        .parent_run
        .as_deref()
        .map(|id| parse_id::<RunId>(id, "run"))
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let offset = query.offset.unwrap_or(0);
    let page = state
        .store()
        .runs(&RunFilter {
            playbook: query.playbook,
            status,
            parent_run,
            limit,
            offset,
        })
        .await?;
    Ok(Json(RunList {
        items: page.items.into_iter().map(RunView::from).collect(),
        total: page.total,
        limit,
        offset,
    }))
}

/// A run with every event (oldest first) and its pending tasks.
#[utoipa::path(
    get,
    path = "/runs/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = RunDetail),
        (status = 400, description = "Not a run id", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    )
)]
pub async fn get_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunDetail>, ApiError> {
    let id = parse_id::<RunId>(&id, "run")?;
    let store = state.store();
    let run = store.run(id).await?.ok_or_else(|| run_not_found(id))?;
    let events = store.run_events(id).await?;
    let tasks = store.run_tasks(id).await?;
    Ok(Json(RunDetail::new(run, events, tasks)))
}

/// Why a run is cancelled.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CancelQuery {
    /// Recorded as the run's reason (default: "cancelled through the API").
    pub reason: Option<String>,
}

/// Cancels a run that has not finished, with its pending tasks and child runs.
#[utoipa::path(
    post,
    path = "/runs/{id}/cancel",
    tag = "runs",
    params(("id" = String, Path, description = "Run id"), CancelQuery),
    responses(
        (status = 200, description = "The cancelled run", body = RunView),
        (status = 400, description = "Not a run id", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "The run has already finished", body = ErrorBody),
    )
)]
pub async fn cancel_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CancelQuery>,
) -> Result<Json<RunView>, ApiError> {
    let id = parse_id::<RunId>(&id, "run")?;
    let store = state.store();
    let run = store.run(id).await?.ok_or_else(|| run_not_found(id))?;
    if run.status.is_terminal() {
        return Err(ApiError::conflict(
            "run_finished",
            format!("run {id} has already finished ({})", run.status),
        ));
    }
    let reason = query
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "cancelled through the API".to_string());
    state.engine.cancel(id, &reason).await?;
    let run = store.run(id).await?.ok_or_else(|| run_not_found(id))?;
    Ok(Json(RunView::from(run)))
}

/// One event.
#[utoipa::path(
    get,
    path = "/events/{id}",
    tag = "runs",
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 400, description = "Not an event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong API token", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
    )
)]
pub async fn get_event(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EventView>, ApiError> {
    let id = parse_id::<EventId>(&id, "event")?;
    let event = state
        .store()
        .event(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("event {id} not found")))?;
    Ok(Json(EventView::from(event)))
}

fn run_not_found(id: RunId) -> ApiError {
    ApiError::not_found(format!("run {id} not found"))
}
