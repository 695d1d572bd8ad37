//! Prometheus metrics: one recorder per process, rendered at `/metrics`.
//!
//! The engine counts runs and action executions as they happen; queue depth and runs by
//! status are read from the store at scrape time, so every process reports the shared
//! database's state.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use muster_store::{RunStatus, now_millis};

use crate::state::AppState;

/// Bucket bounds (seconds) of `muster_action_duration_seconds`.
const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
///
/// When another recorder was installed before (by an embedding program), metrics emitted
/// through the `metrics` macros go there, and the handle returned here only renders what
/// it records itself.
pub fn prometheus() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| match builder().install_recorder() {
            Ok(handle) => handle,
            Err(err) => {
                tracing::warn!(error = %err, "a metrics recorder is already installed; /metrics will not show the engine's metrics");
                builder().build_recorder().handle()
            }
        })
        .clone()
}

fn builder() -> PrometheusBuilder {
    let builder = PrometheusBuilder::new();
    match builder.set_buckets_for_metric(
        Matcher::Full("muster_action_duration_seconds".into()),
        &DURATION_BUCKETS,
    ) {
        Ok(builder) => builder,
        // Only refused for an empty bucket list, which the constant is not.
        Err(_) => PrometheusBuilder::new(),
    }
}

/// Prometheus metrics of this process and of the shared queue.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String))
)]
pub async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let store = state.store();
    match store.queue_stats(now_millis()).await {
        Ok(stats) => {
            metrics::gauge!("muster_queue_ready").set(stats.ready as f64);
            metrics::gauge!("muster_queue_waiting").set(stats.waiting as f64);
            metrics::gauge!("muster_queue_claimed").set(stats.claimed as f64);
            let age = stats.oldest_ready_age_ms.unwrap_or(0).max(0) as f64 / 1000.0;
            metrics::gauge!("muster_queue_oldest_ready_age_seconds").set(age);
        }
        Err(err) => tracing::warn!(error = %err, "cannot read queue statistics for /metrics"),
    }
    match store.run_counts().await {
        Ok(counts) => {
            for status in RunStatus::ALL {
                let count = counts
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map_or(0, |(_, n)| *n);
                metrics::gauge!("muster_runs", "status" => status.as_str()).set(count as f64);
            }
        }
        Err(err) => tracing::warn!(error = %err, "cannot read run counts for /metrics"),
    }
    state.metrics.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
