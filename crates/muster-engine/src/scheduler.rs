//! Scheduled triggers: each enabled playbook's schedule triggers have a durable next firing
//! time; firing starts a run and moves the schedule on in the same transaction, so a tick
//! fires once even with several processes or a crash. A tick missed while no process ran
//! fires once when one starts again.

use std::time::Duration;

use muster_store::{ScheduleAdvance, ScheduleRecord, StoreError, now_millis};
use serde_json::json;

use crate::compiled::CompiledPlaybook;
use crate::engine::{Engine, RunStart};
use crate::error::EngineError;
use muster_store::format_millis as rfc3339;

/// The longest sleep between looks at the schedule table.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Makes the stored schedules of `compiled` match its triggers and enabled flag.
pub(crate) async fn sync_schedules(
    engine: &Engine,
    compiled: &CompiledPlaybook,
    enabled: bool,
) -> Result<(), EngineError> {
    let store = engine.store();
    let now = now_millis();
    let mut keep = Vec::new();
    for trigger in compiled.triggers() {
        let next = match trigger.implementation.next_fire(&trigger.def, now) {
            Ok(next) => next,
            Err(problem) => {
                return Err(EngineError::BadRequest(format!(
                    "trigger `{}`: {problem}",
                    trigger.id()
                )));
            }
        };
        if let (Some(at), true) = (next, enabled) {
            store
                .set_schedule(compiled.name(), trigger.id(), Some(at))
                .await?;
            keep.push(trigger.id().to_string());
        }
    }
    for schedule in store.schedules().await? {
        if schedule.playbook == compiled.name() && !keep.contains(&schedule.action) {
            store
                .set_schedule(&schedule.playbook, &schedule.action, None)
                .await?;
        }
    }
    engine.inner.wake_schedules.notify_one();
    Ok(())
}

pub(crate) async fn schedule_loop(engine: Engine) {
    let mut shutdown = engine.inner.shutdown.subscribe();
    loop {
        let mut sleep = MAX_SLEEP;
        match engine.store().schedules().await {
            Ok(schedules) => {
                for schedule in schedules {
                    let now = now_millis();
                    if schedule.next_at <= now {
                        fire(&engine, &schedule).await;
                    } else {
                        sleep = sleep.min(Duration::from_millis((schedule.next_at - now) as u64));
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "reading schedules failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = engine.inner.wake_schedules.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn fire(engine: &Engine, schedule: &ScheduleRecord) {
    let Some((compiled, enabled)) = engine.playbook(&schedule.playbook) else {
        return;
    };
    let Some(trigger) = compiled.action(&schedule.action) else {
        return;
    };
    if !enabled {
        return;
    }
    let now = now_millis();
    let next = match trigger.implementation.next_fire(&trigger.def, now) {
        Ok(Some(next)) => next,
        Ok(None) | Err(_) => i64::MAX,
    };
    let output = json!({
        "scheduled_at": rfc3339(schedule.next_at),
        "fired_at": rfc3339(now),
    });
    let advance = ScheduleAdvance {
        playbook: schedule.playbook.clone(),
        action: schedule.action.clone(),
        fired_at: schedule.next_at,
        next_at: next,
    };
    let (start, jobs, run_output) = engine
        .prepare_run(
            &compiled,
            RunStart {
                trigger: trigger.id(),
                output,
                schedule_next: Some(advance),
                ..RunStart::default()
            },
        )
        .await;
    let start_run_id = start.run.id;
    let ticket = crate::execute::share(engine.store().start_run(start));
    engine.inner.dispatch(jobs, Some(ticket.clone()));
    match ticket.await {
        Ok(effects) => {
            metrics::counter!("muster_runs_started_total", "playbook" => compiled.name().to_string()).increment(1);
            engine.inner.handle_effects(&effects);
            engine.inner.announce_output(start_run_id, run_output);
        }
        Err(StoreError::Conflict(_)) => {}
        Err(err) => {
            tracing::warn!(playbook = %schedule.playbook, error = %err, "starting a scheduled run failed")
        }
    }
}
