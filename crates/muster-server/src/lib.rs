//! The Muster HTTP server: the REST API under `/api/v1` (described by an OpenAPI document),
//! webhooks under `/hooks/…`, and the operational endpoints `/healthz`, `/readyz` and
//! `/metrics`.
//!
//! The server is a thin layer over [`muster_engine::Engine`]: it authenticates, validates
//! and translates requests; every state change goes through the engine or the store, so the
//! same rules hold whether a run starts from the API, a webhook, the CLI or a schedule.

mod api;
mod auth;
mod body;
mod config;
mod error;
mod health;
mod idempotency;
mod metrics;
mod router;
mod serve;
mod state;
mod views;
mod webhooks;

pub use api::openapi;
pub use config::ServerConfig;
pub use error::{ApiError, DiagnosticView, ErrorBody, ErrorParts};
pub use router::router;
pub use serve::serve;
