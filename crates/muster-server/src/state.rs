//! What every handler shares: the engine, the settings, the metrics handle and the
//! pre-rendered OpenAPI document.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use muster_engine::Engine;
use muster_store::Store;

use crate::config::ServerConfig;

/// Shared state of the router. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub config: Arc<ServerConfig>,
    pub metrics: PrometheusHandle,
    /// The OpenAPI document as JSON text, rendered once.
    pub openapi: Arc<str>,
}

impl AppState {
    pub fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }
}
