//! The claim loop (tasks due for any worker: recovered after a crash, retried, resumed from a
//! wait, or created when this process was full) and the lease heartbeat.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use muster_model::ContextNode;
use muster_store::{ClaimedTask, EventRecord, now_millis};

use crate::context::TaskInfo;
use crate::engine::Inner;
use crate::execute::Job;

/// The most tasks claimed in one transaction.
const CLAIM_BATCH: usize = 256;

pub(crate) async fn claim_loop(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let room = inner.in_flight.available_permits().min(CLAIM_BATCH);
        let mut full_batch = false;
        if room > 0 {
            inner.next_due.store(i64::MAX, Ordering::Relaxed);
            let now = now_millis();
            let lease_until = now + inner.config.lease.as_millis() as i64;
            match inner
                .store
                .claim(&inner.worker, room as u32, lease_until, now)
                .await
            {
                Ok(claimed) => {
                    full_batch = claimed.tasks.len() == room;
                    if let Some(due) = claimed.next_due {
                        inner.next_due.fetch_min(due, Ordering::Relaxed);
                    }
                    for task in claimed.tasks {
                        tokio::spawn(start_claimed(inner.clone(), task));
                    }
                }
                Err(err) => tracing::warn!(error = %err, "claiming tasks failed"),
            }
        }
        if full_batch {
            continue;
        }
        let poll = now_millis() + inner.config.poll_interval.as_millis() as i64;
        let until = inner.next_due.load(Ordering::Relaxed).min(poll);
        let wait = Duration::from_millis((until - now_millis()).max(0) as u64);
        tokio::select! {
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Loads what a claimed task needs (its playbook version and input chain) and runs it.
async fn start_claimed(inner: Arc<Inner>, task: ClaimedTask) {
    let permit = match inner.in_flight.clone().acquire_owned().await {
        Ok(permit) => permit,
        Err(_) => return,
    };
    let playbook = match inner
        .playbooks
        .version(
            &*inner.store,
            &inner.registry,
            &inner.expressions,
            &task.playbook,
            task.version,
        )
        .await
    {
        Ok(playbook) => playbook,
        Err(err) => {
            tracing::error!(task = %task.id, error = %err, "cannot run task: its playbook does not load");
            return;
        }
    };
    let chain = match inner.store.event_chain(task.input_event).await {
        Ok(chain) if !chain.is_empty() => chain,
        Ok(_) => {
            tracing::error!(task = %task.id, event = %task.input_event, "cannot run task: its input event is missing");
            return;
        }
        Err(err) => {
            tracing::warn!(task = %task.id, error = %err, "loading a task's input failed");
            return;
        }
    };
    let info = TaskInfo {
        id: task.id,
        run_id: task.run_id,
        attempt: task.attempt,
        state: task.state,
    };
    let job = Job::new(
        &inner,
        info,
        task.claim,
        playbook,
        task.action.into(),
        build_chain(chain),
        permit,
    );
    crate::execute::run_job(inner, job).await;
}

/// Links stored events (nearest first) into a context chain.
pub(crate) fn build_chain(chain: Vec<EventRecord>) -> Arc<ContextNode> {
    let mut node: Option<Arc<ContextNode>> = None;
    for event in chain.into_iter().rev() {
        node = Some(ContextNode::new(
            event.id,
            event.action,
            Arc::new(event.output),
            node,
        ));
    }
    node.expect("a non-empty chain")
}

pub(crate) async fn heartbeat_loop(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    let every = inner.config.lease / 3;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let held = inner.held.snapshot();
        if held.is_empty() {
            continue;
        }
        let lease_until = now_millis() + inner.config.lease.as_millis() as i64;
        if let Err(err) = inner
            .store
            .heartbeat(&inner.worker, held, lease_until)
            .await
        {
            tracing::warn!(error = %err, "extending task leases failed");
        }
    }
}
