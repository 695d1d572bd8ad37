//! Inserting events and tasks, the rows every write adds.

use muster_model::{RunId, TaskId};
use rusqlite::{Connection, params};

use crate::Result;
use crate::time::Millis;
use crate::writes::*;

use super::*;

/// Records in `effects` whether new tasks wait for any worker or for a time.
pub(super) fn note_new_tasks(tasks: &[NewTask], effects: &mut Effects) {
    for task in tasks {
        match &task.state {
            NewTaskState::Ready { .. } => effects.tasks_due = true,
            NewTaskState::Waiting {
                run_at: Some(at), ..
            } => {
                effects.next_due = Some(effects.next_due.map_or(*at, |d| d.min(*at)));
            }
            NewTaskState::Claimed { .. } | NewTaskState::Waiting { run_at: None, .. } => {}
        }
    }
}

pub(super) fn insert_event(
    conn: &Connection,
    run: RunId,
    event: &NewEvent,
    task: Option<TaskId>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO events (id, run_id, parent_id, action, port, output, task_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        event.id.to_string(),
        run.to_string(),
        event.parent.map(|p| p.to_string()),
        event.action,
        event.port,
        event.output_json,
        task.map(|t| t.to_string()),
        now
    ])?;
    Ok(())
}

pub(super) fn insert_task(
    conn: &Connection,
    run: RunId,
    playbook: &str,
    version: i64,
    task: &NewTask,
    now: Millis,
    delta: &mut RunDelta,
) -> Result<()> {
    let (status, run_at, owner, lease_until, reason) = match &task.state {
        NewTaskState::Ready { run_at } => ("ready", Some(*run_at), None, None, None),
        NewTaskState::Claimed { owner, lease_until } => (
            "claimed",
            Some(now),
            Some(&**owner),
            Some(*lease_until),
            None,
        ),
        NewTaskState::Waiting { run_at, reason } => {
            delta.waiting += 1;
            ("waiting", *run_at, None, None, Some(reason.as_str()))
        }
    };
    let claims = i64::from(owner.is_some());
    conn.prepare_cached(
        "INSERT INTO tasks (id, run_id, playbook, version, action, input_event, status, run_at,
                            attempt, claims, lease_owner, lease_until, state, reason, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?15, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
    )?
    .execute(params![
        task.id.to_string(),
        run.to_string(),
        playbook,
        version,
        task.action,
        task.input_event.to_string(),
        status,
        run_at,
        claims,
        owner,
        lease_until,
        task.action_state,
        reason,
        now,
        task.attempt.max(1)
    ])?;
    delta.pending += 1;
    Ok(())
}
