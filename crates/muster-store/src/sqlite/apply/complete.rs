//! Completing a claimed task: record its events and downstream tasks, retry it, park it, or
//! fail the run, checking the claim's fencing token.

use muster_model::TaskId;
use rusqlite::{Connection, OptionalExtension, params};

use crate::time::Millis;
use crate::writes::*;
use crate::{Result, StoreError};

use super::*;

pub fn complete(conn: &Connection, completion: &Completion) -> Result<Effects> {
    let mut effects = Effects::default();
    let now = completion.now;
    let run = completion.run;
    let mut delta = RunDelta::default();
    let reason = match &completion.resolution {
        Resolution::Done {
            events,
            tasks,
            run_output,
        } => {
            take_task(conn, completion.task, completion.claim)?;
            delta.pending -= 1;
            apply_state_writes(conn, &completion.state_writes, now)?;
            apply_group_ops(conn, completion, &mut delta, &mut effects)?;
            let recorded: i64 = conn
                .prepare_cached("SELECT events FROM runs WHERE id = ?1")?
                .query_row([run.to_string()], |row| row.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound {
                    kind: "run",
                    id: run.to_string(),
                })?;
            let after = recorded + events.len() as i64;
            if after > completion.max_events as i64 {
                let error = cap_error(&completion.action, completion.max_events);
                fail_run(conn, run, &error, now, &mut effects)?;
                return Ok(effects);
            }
            for event in events {
                insert_event(conn, run, event, event.task.or(Some(completion.task)), now)?;
            }
            delta.events += events.len() as i64;
            for task in tasks {
                insert_task(
                    conn,
                    run,
                    &completion.playbook,
                    completion.version,
                    task,
                    now,
                    &mut delta,
                )?;
            }
            note_new_tasks(tasks, &mut effects);
            if let Some(output) = run_output {
                conn.prepare_cached("UPDATE runs SET output = ?2 WHERE id = ?1")?
                    .execute(params![run.to_string(), output])?;
            }
            Reason::Keep
        }
        Resolution::Retry {
            run_at,
            attempt,
            reason,
        } => {
            park_task(
                conn,
                completion,
                Some(*run_at),
                Some(*attempt),
                None,
                reason,
            )?;
            delta.waiting += 1;
            effects.next_due = Some(*run_at);
            Reason::Set(reason.clone())
        }
        Resolution::Park {
            run_at,
            state,
            reason,
            child,
        } => {
            park_task(conn, completion, *run_at, None, Some(state), reason)?;
            apply_state_writes(conn, &completion.state_writes, now)?;
            delta.waiting += 1;
            effects.next_due = *run_at;
            // Park first, so that a child run that ends at once can wake this task.
            apply_delta(
                conn,
                run,
                delta,
                Reason::Set(reason.clone()),
                now,
                &mut effects,
            )?;
            if let Some(child) = child {
                start_run_into(conn, child, &mut effects)?;
            }
            return Ok(effects);
        }
        Resolution::Fail { error } => {
            take_task(conn, completion.task, completion.claim)?;
            fail_run(conn, run, error, now, &mut effects)?;
            return Ok(effects);
        }
    };
    apply_delta(conn, run, delta, reason, now, &mut effects)?;
    Ok(effects)
}

pub(super) fn cap_error(action: &str, cap: u64) -> TaskError {
    TaskError {
        action: action.to_string(),
        class: "permanent".into(),
        message: format!(
            "the run reached its event cap of {cap} events (settings.max_events_per_run); \
             a loop in the playbook may be running away"
        ),
        attempt: 1,
    }
}

/// Parks a claimed task until `run_at` (or a signal), releasing its claim; a retry sets the
/// next attempt, a wait the state to resume with.
pub(super) fn park_task(
    conn: &Connection,
    completion: &Completion,
    run_at: Option<Millis>,
    attempt: Option<u32>,
    state: Option<&str>,
    reason: &str,
) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE tasks SET status = 'waiting', run_at = ?3, attempt = COALESCE(?4, attempt),
                              state = COALESCE(?5, state), reason = ?6,
                              lease_owner = NULL, lease_until = NULL, updated_at = ?7
             WHERE id = ?1 AND status = 'claimed' AND claims = ?2",
        )?
        .execute(params![
            completion.task.to_string(),
            completion.claim,
            run_at,
            attempt,
            state,
            reason,
            completion.now
        ])?;
    ensure_held(changed, completion.task)
}

/// Removes a claimed task, checking the claim's fencing token.
pub(super) fn take_task(conn: &Connection, task: TaskId, claim: i64) -> Result<()> {
    let removed = conn
        .prepare_cached("DELETE FROM tasks WHERE id = ?1 AND status = 'claimed' AND claims = ?2")?
        .execute(params![task.to_string(), claim])?;
    ensure_held(removed, task)
}

pub(super) fn ensure_held(changed: usize, task: TaskId) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::LostClaim {
            task: task.to_string(),
        })
    }
}
