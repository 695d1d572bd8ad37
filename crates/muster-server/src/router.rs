//! Assembles the router: API (authenticated), webhooks, operational routes, and the layers
//! every request passes (request id, tracing, body limit, panic catching, error shape).

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderName;
use axum::middleware;
use axum::routing::{any, get};
use muster_engine::Engine;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::ServerConfig;
use crate::error::json_errors;
use crate::state::AppState;

/// The header carrying each request's id (taken from the client when it sends one).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The whole HTTP surface of a Muster server process.
pub fn router(engine: Engine, config: ServerConfig) -> Router {
    let (api, doc) = crate::api::api_router_and_doc();
    let openapi: Arc<str> = doc
        .to_json()
        .unwrap_or_else(|err| {
            format!("{{\"error\":\"cannot render the OpenAPI document: {err}\"}}")
        })
        .into();
    let max_request_bytes = config.max_request_bytes;
    let state = AppState {
        engine,
        config: Arc::new(config),
        metrics: crate::metrics::prometheus(),
        openapi,
    };
    // `route_layer`: unknown paths answer 404 rather than asking for a token.
    let api = api.route_layer(middleware::from_fn_with_state(
        state.clone(),
        crate::auth::require_token,
    ));
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .merge(api)
        .route("/hooks/{*path}", any(crate::webhooks::receive))
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(
                    |request: &axum::http::Request<axum::body::Body>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %id,
                        )
                    },
                ))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(json_errors))
                .layer(CatchPanicLayer::custom(crate::error::panic_response))
                .layer(RequestBodyLimitLayer::new(max_request_bytes)),
        )
}
