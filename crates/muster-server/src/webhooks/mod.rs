//! Webhooks: any request to `/hooks/{path}` starts a run of the playbook whose `webhook`
//! trigger listens on that path.
//!
//! Checks happen in an order that reveals as little as possible and stores nothing until
//! everything passed: route (404), method (405), secret (401), body size (413), signature
//! (401), enabled (409), body parsing (400). Only then is the run started; with
//! `response: accepted` the answer is 202 once the run is durable, with `response: exit` the
//! request waits for the run's `exit` output. A request repeating an `Idempotency-Key` starts
//! nothing and answers with the first run's id.

mod event;
mod respond;
mod verify;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use muster_actions::triggers::webhook::{ResponseMode, WebhookOptions};
use muster_engine::{CompiledAction, EngineError, TriggerRequest};
use muster_model::HumanDuration;
use muster_model::expr::Scope;
use serde_json::{Map, Value};

use crate::api::extract::ApiPath;
use crate::body::read_body;
use crate::error::{ApiError, ErrorBody};
use crate::idempotency;
use crate::state::AppState;
use crate::views::RunStarted;

/// The response header that carries the id of the run a webhook request started.
pub const RUN_ID_HEADER: &str = "x-muster-run-id";

/// Receives a webhook and starts a run.
///
/// Every method is routed here; the trigger's `methods` option decides which are accepted
/// (POST by default). JSON bodies (`application/json`, `*+json`) are parsed, other bodies are
/// kept as text, an empty body is `null`. The run's trigger event is
/// `{method, path, headers, query, body}`. A raw email (`message/rfc822`) is also parsed into
/// `email` (the `parse_email` document); it may be in any charset: when it is not UTF-8,
/// `body` is its base64, and `body_encoding` (`text` or `base64`) says which.
#[utoipa::path(
    post,
    path = "/hooks/{path}",
    tag = "webhooks",
    params(
        ("path" = String, Path, description = "The trigger's `path` option (may contain `/`)"),
        ("X-Muster-Secret" = Option<String>, Header, description = "The trigger's `secret` (or send it as a bearer token)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key start no second run"),
    ),
    request_body(
        description = "Any body up to the trigger's `max_body`",
        content((Object = "application/json"), ("text/plain"), ("message/rfc822"))
    ),
    responses(
        (status = 200, description = "`response: exit`: the run's exit output (any JSON), or `{run_id, status}` when it finished without one; or, for a repeated `Idempotency-Key`, `{run_id, duplicate: true}`", body = Object),
        (status = 202, description = "The run started (`response: accepted`), or is still running when an `exit` response timed out", body = RunStarted),
        (status = 400, description = "Malformed JSON, or a body that is not UTF-8 text (other than `message/rfc822`)", body = ErrorBody),
        (status = 401, description = "Missing or wrong secret or signature", body = ErrorBody),
        (status = 404, description = "No trigger listens on this path", body = ErrorBody),
        (status = 405, description = "Method not in the trigger's `methods`", body = ErrorBody),
        (status = 409, description = "The playbook is disabled", body = ErrorBody),
        (status = 413, description = "Body larger than the trigger's `max_body`", body = ErrorBody),
        (status = 502, description = "`response: exit`: the run failed (`code` is `run_failed`)", body = ErrorBody),
    ),
    security(())
)]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match handle(&state, &path, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    metrics::counter!("muster_webhook_requests_total", "status" => response.status().as_str().to_string())
        .increment(1);
    response
}

async fn handle(
    state: &AppState,
    path: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (route, current) = state
        .engine
        .webhook(path)
        .ok_or_else(|| ApiError::not_found(format!("no webhook listens on /hooks/{path}")))?;
    let action = current.compiled.action(&route.action).ok_or_else(|| {
        ApiError::internal(format!(
            "playbook {} has no action {}",
            route.playbook, route.action
        ))
    })?;
    let options = options(action, path)?;
    if !options
        .methods
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method.as_str()))
    {
        return Err(ApiError::method_not_allowed(
            format!(
                "/hooks/{path} accepts {}, not {method}",
                options.methods.join(", ")
            ),
            &options.methods,
        ));
    }
    verify::check_secret(&options, headers)?;
    let limit = options.max_body.min(state.config.max_request_bytes);
    let bytes = read_body(headers, body, limit).await?;
    verify::check_signature(&options, headers, &bytes)?;
    if !current.enabled {
        return Err(ApiError::conflict(
            "playbook_disabled",
            format!("playbook {} is disabled", route.playbook),
        ));
    }
    let once_key = idempotency::key(headers)?;
    let output = event::trigger_output(method, path, uri, headers, &bytes)?;
    let request = TriggerRequest {
        playbook: route.playbook.clone(),
        trigger: Some(route.action.clone()),
        output,
        once_key,
        even_if_disabled: false,
    };
    let (run, mut response) = match options.response {
        ResponseMode::Accepted => {
            let run = match state.engine.trigger(request).await {
                Err(EngineError::Duplicate { run_id }) => return Ok(duplicate(run_id)),
                started => started?,
            };
            let answer = (StatusCode::ACCEPTED, Json(RunStarted { run_id: run.0 }));
            (run, answer.into_response())
        }
        ResponseMode::Exit => {
            let timeout = match &options.response_timeout {
                Some(text) => text
                    .parse::<HumanDuration>()
                    .map(|d| d.as_duration())
                    .map_err(|err| {
                        ApiError::internal(format!(
                            "webhook /hooks/{path} has an invalid response_timeout: {err}"
                        ))
                    })?,
                None => state.config.default_response_timeout,
            };
            // Watching starts before the run does, so an early `exit` output is not missed.
            let (run, result) = match state.engine.trigger_and_wait(request, timeout).await {
                Err(EngineError::Duplicate { run_id }) => return Ok(duplicate(run_id)),
                started => started?,
            };
            (run, respond::exit_response(run, result))
        }
    };
    tracing::info!(path, playbook = %route.playbook, run_id = %run, "webhook started a run");
    if let Ok(value) = HeaderValue::from_str(&run.to_string()) {
        response.headers_mut().insert(RUN_ID_HEADER, value);
    }
    Ok(response)
}

/// The trigger's options with expressions (a secret taken from a credential, for example)
/// evaluated; nothing from the request is in scope.
fn options(action: &CompiledAction, path: &str) -> Result<WebhookOptions, ApiError> {
    let scope = Scope::new(None);
    let mut rendered = Map::new();
    for (name, value) in &action.options {
        let value = value.render(&scope).map_err(|err| {
            ApiError::internal(format!(
                "webhook /hooks/{path} cannot evaluate its options: {err}"
            ))
        })?;
        rendered.insert(name.clone(), value);
    }
    serde_json::from_value(Value::Object(rendered)).map_err(|err| {
        ApiError::internal(format!("webhook /hooks/{path} has invalid options: {err}"))
    })
}

/// The answer to a retried request: the first run's id, no new run.
fn duplicate(run_id: String) -> Response {
    let header = HeaderValue::from_str(&run_id).ok();
    let mut response = idempotency::duplicate(run_id);
    if let Some(value) = header {
        response.headers_mut().insert(RUN_ID_HEADER, value);
    }
    response
}
