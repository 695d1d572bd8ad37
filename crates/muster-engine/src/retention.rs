//! Pruning finished runs (and their events) older than each playbook's `keep_events_for`,
//! and expired action state.

use std::sync::Arc;

use muster_model::Settings;
use muster_store::now_millis;

use crate::engine::Inner;

/// Runs deleted per transaction, so that pruning never holds the writer for long.
const PRUNE_BATCH: u32 = 500;

pub(crate) async fn retention_loop(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    loop {
        prune_once(&inner).await;
        tokio::select! {
            _ = tokio::time::sleep(inner.config.retention_interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One pass over every playbook (deleted playbooks' runs use the default retention).
pub(crate) async fn prune_once(inner: &Inner) -> u64 {
    let mut names: Vec<(String, u64)> = inner
        .playbooks
        .all_current()
        .into_iter()
        .map(|c| {
            let keep = c.compiled.playbook.settings.keep_events_for().as_millis();
            (c.compiled.name().to_string(), keep)
        })
        .collect();
    if let Ok(counts) = inner.store.playbook_names_with_runs().await {
        for name in counts {
            if !names.iter().any(|(n, _)| *n == name) {
                names.push((name, Settings::DEFAULT_KEEP_EVENTS_FOR_SECS * 1000));
            }
        }
    }
    let mut total = 0;
    for (name, keep) in names {
        let before = now_millis() - keep as i64;
        loop {
            match inner.store.prune_runs(&name, before, PRUNE_BATCH).await {
                Ok(pruned) => {
                    total += pruned;
                    if pruned < u64::from(PRUNE_BATCH) {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(playbook = %name, error = %err, "pruning runs failed");
                    break;
                }
            }
        }
    }
    if let Err(err) = inner.store.prune_state(now_millis()).await {
        tracing::warn!(error = %err, "pruning expired action state failed");
    }
    if total > 0 {
        tracing::info!(runs = total, "pruned finished runs past their retention");
    }
    total
}
