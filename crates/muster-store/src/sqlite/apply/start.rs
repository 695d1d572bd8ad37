//! Starting a run: the run row (written once with its final counters), the trigger event,
//! the events of steps executed inline and the first tasks.

use rusqlite::{Connection, params};

use crate::records::RunStatus;
use crate::writes::*;
use crate::{Result, StoreError};

use super::*;

pub fn start_run(conn: &Connection, start: &StartRun) -> Result<Effects> {
    let mut effects = Effects::default();
    start_run_into(conn, start, &mut effects)?;
    Ok(effects)
}

pub(super) fn start_run_into(
    conn: &Connection,
    start: &StartRun,
    effects: &mut Effects,
) -> Result<()> {
    let now = start.now;
    let run = &start.run;
    if let Some((scope, key)) = &start.once_key {
        let inserted = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO once_keys (scope, key, run_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![scope, key, run.id.to_string(), now])?;
        if inserted == 0 {
            let run_id: String = conn
                .prepare_cached("SELECT run_id FROM once_keys WHERE scope = ?1 AND key = ?2")?
                .query_row(params![scope, key], |row| row.get(0))?;
            return Err(StoreError::Duplicate {
                key: format!("{scope} {key}"),
                run_id,
            });
        }
    }
    if let Some(advance) = &start.schedule_next {
        let moved = conn
            .prepare_cached(
                "UPDATE schedules SET next_at = ?4 WHERE playbook = ?1 AND action = ?2 AND next_at = ?3",
            )?
            .execute(params![advance.playbook, advance.action, advance.fired_at, advance.next_at])?;
        if moved == 0 {
            return Err(StoreError::Conflict(format!(
                "schedule {}/{} already fired for {}",
                advance.playbook, advance.action, advance.fired_at
            )));
        }
    }
    let (parent_run, parent_task) = match &run.parent {
        Some((r, t)) => (Some(r.to_string()), Some(t.to_string())),
        None => (None, None),
    };
    let capped = 1 + start.events.len() as u64 > start.max_events;
    // The run's row is written once with its final counters; a run whose steps all ran
    // inline (no tasks) is finished at once, unless it has a parent to wake.
    let pending = if capped { 0 } else { start.tasks.len() as i64 };
    let waiting = if capped {
        0
    } else {
        start
            .tasks
            .iter()
            .filter(|t| matches!(t.state, NewTaskState::Waiting { .. }))
            .count() as i64
    };
    let events = if capped {
        1
    } else {
        1 + start.events.len() as i64
    };
    let finished_now = !capped && pending == 0 && run.parent.is_none();
    let (status, reason) = if finished_now {
        (RunStatus::Succeeded, None)
    } else if pending > 0 && waiting == pending {
        let reason = start.tasks.iter().find_map(|t| match &t.state {
            NewTaskState::Waiting { reason, .. } => Some(reason.as_str()),
            _ => None,
        });
        (RunStatus::Waiting, reason)
    } else {
        (RunStatus::Running, None)
    };
    let output = if capped {
        None
    } else {
        start.run_output.as_deref()
    };
    conn.prepare_cached(
        "INSERT INTO runs (id, playbook, version, status, reason, trigger_action, parent_run, parent_task,
                           output, pending, waiting, events, created_at, updated_at, finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
    )?
    .execute(params![
        run.id.to_string(),
        run.playbook,
        run.version,
        status.as_str(),
        reason,
        run.trigger_action,
        parent_run,
        parent_task,
        output,
        pending,
        waiting,
        events,
        now,
        finished_now.then_some(now),
    ])?;
    insert_event(conn, run.id, &start.trigger, None, now)?;
    if capped {
        // The trigger is recorded; the steps after it would pass the run's event cap.
        let error = cap_error(&start.run.trigger_action, start.max_events);
        return fail_run(conn, run.id, &error, now, effects);
    }
    for event in &start.events {
        insert_event(conn, run.id, event, event.task, now)?;
    }
    let mut ignored = RunDelta::default();
    for task in &start.tasks {
        insert_task(
            conn,
            run.id,
            &run.playbook,
            run.version,
            task,
            now,
            &mut ignored,
        )?;
    }
    if finished_now {
        effects.finished.push(crate::writes::FinishedRun {
            id: run.id,
            status: RunStatus::Succeeded,
            output: output.map(serde_json::from_str).transpose()?,
            reason: None,
        });
    } else if pending == 0 {
        // A child run that ended at once: finishing it wakes its parent.
        apply_delta(
            conn,
            run.id,
            RunDelta::default(),
            Reason::Keep,
            now,
            effects,
        )?;
    }
    note_new_tasks(&start.tasks, effects);
    Ok(())
}
