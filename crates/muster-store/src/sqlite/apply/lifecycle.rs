//! Run accounting: counters, status and reason, finishing, failing and cancelling runs, and
//! waking the parent task of a child run.

use muster_model::RunId;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::records::RunStatus;
use crate::time::Millis;
use crate::writes::*;
use crate::{Result, StoreError};

use super::*;

/// Changes to a run's counters, applied together at the end of a write.
#[derive(Default)]
pub(super) struct RunDelta {
    pub(super) pending: i64,
    pub(super) waiting: i64,
    pub(super) events: i64,
}

/// What to do with a run's `reason`.
pub(super) enum Reason {
    /// Keep it, unless the run went back to running (then clear it).
    Keep,
    Set(String),
}

/// Applies counter changes and moves the run to the status they imply.
pub(super) fn apply_delta(
    conn: &Connection,
    run: RunId,
    delta: RunDelta,
    reason: Reason,
    now: Millis,
    effects: &mut Effects,
) -> Result<()> {
    let row: Option<(String, i64, i64, Option<String>)> = conn
        .prepare_cached(
            "UPDATE runs SET pending = pending + ?2, waiting = waiting + ?3, events = events + ?4, updated_at = ?5
             WHERE id = ?1 AND finished_at IS NULL
             RETURNING status, pending, waiting, reason",
        )?
        .query_row(
            params![run.to_string(), delta.pending, delta.waiting, delta.events, now],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((old_status, pending, waiting, old_reason)) = row else {
        return Err(StoreError::NotFound {
            kind: "unfinished run",
            id: run.to_string(),
        });
    };
    if pending == 0 {
        return finish_run(conn, run, RunStatus::Succeeded, None, None, now, effects);
    }
    let status = if waiting >= pending {
        RunStatus::Waiting
    } else {
        RunStatus::Running
    };
    let new_reason = match reason {
        Reason::Set(text) => Some(text),
        Reason::Keep if status == RunStatus::Running => None,
        Reason::Keep if old_status != status.as_str() => conn
            .prepare_cached(
                "SELECT reason FROM tasks WHERE run_id = ?1 AND status = 'waiting' ORDER BY run_at LIMIT 1",
            )?
            .query_row([run.to_string()], |row| row.get(0))
            .optional()?
            .flatten(),
        Reason::Keep => old_reason.clone(),
    };
    if old_status != status.as_str() || new_reason != old_reason {
        conn.prepare_cached("UPDATE runs SET status = ?2, reason = ?3 WHERE id = ?1")?
            .execute(params![run.to_string(), status.as_str(), new_reason])?;
    }
    Ok(())
}

/// Ends a run: records the terminal status and wakes the parent task of a child run.
pub(super) fn finish_run(
    conn: &Connection,
    run: RunId,
    status: RunStatus,
    reason: Option<&str>,
    error: Option<&TaskError>,
    now: Millis,
    effects: &mut Effects,
) -> Result<()> {
    let error_json = error.map(serde_json::to_string).transpose()?;
    let (parent_task, output): (Option<String>, Option<String>) = conn
        .prepare_cached(
            "UPDATE runs SET status = ?2, reason = ?3, error = ?4, pending = 0, waiting = 0,
                             updated_at = ?5, finished_at = ?5
             WHERE id = ?1 AND finished_at IS NULL
             RETURNING parent_task, output",
        )?
        .query_row(
            params![run.to_string(), status.as_str(), reason, error_json, now],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
    let output: Option<Value> = output.as_deref().map(serde_json::from_str).transpose()?;
    if let Some(parent_task) = parent_task {
        let mut child = serde_json::json!({
            "run_id": run.to_string(),
            "status": status.as_str(),
            "output": output.clone(),
        });
        if let Some(error) = error {
            child["error"] = serde_json::to_value(error)?;
        }
        if let Some(reason) = reason {
            child["reason"] = Value::String(reason.to_string());
        }
        let state = serde_json::json!({ "child": child }).to_string();
        let parent: Option<String> = conn
            .prepare_cached(
                "UPDATE tasks SET status = 'ready', run_at = ?2, state = ?3, reason = NULL, updated_at = ?2
                 WHERE id = ?1 AND status = 'waiting'
                 RETURNING run_id",
            )?
            .query_row(params![parent_task, now, state], |row| row.get(0))
            .optional()?;
        if let Some(parent_run) = parent {
            let parent_run: RunId = parse_id(&parent_run)?;
            let delta = RunDelta {
                waiting: -1,
                ..RunDelta::default()
            };
            apply_delta(conn, parent_run, delta, Reason::Keep, now, effects)?;
            effects.tasks_due = true;
        }
    }
    effects.finished.push(crate::writes::FinishedRun {
        id: run,
        status,
        output,
        reason: reason.map(str::to_string),
    });
    Ok(())
}

/// Fails a run: cancels its other tasks and child runs, records the error.
pub(super) fn fail_run(
    conn: &Connection,
    run: RunId,
    error: &TaskError,
    now: Millis,
    effects: &mut Effects,
) -> Result<()> {
    let reason = format!("action `{}` failed: {}", error.action, error.message);
    end_run(
        conn,
        run,
        RunStatus::Failed,
        &reason,
        Some(error),
        now,
        effects,
    )
}

/// Stops a run with a terminal status other than success, cleaning up everything pending.
pub(super) fn end_run(
    conn: &Connection,
    run: RunId,
    status: RunStatus,
    reason: &str,
    error: Option<&TaskError>,
    now: Millis,
    effects: &mut Effects,
) -> Result<()> {
    conn.prepare_cached("DELETE FROM tasks WHERE run_id = ?1")?
        .execute([run.to_string()])?;
    conn.prepare_cached(
        "DELETE FROM group_items WHERE key IN (SELECT key FROM groups WHERE run_id = ?1)",
    )?
    .execute([run.to_string()])?;
    conn.prepare_cached("DELETE FROM groups WHERE run_id = ?1")?
        .execute([run.to_string()])?;
    let children: Vec<String> = conn
        .prepare_cached("SELECT id FROM runs WHERE parent_run = ?1 AND finished_at IS NULL")?
        .query_map([run.to_string()], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for child in children {
        let child = parse_id(&child)?;
        end_run(
            conn,
            child,
            RunStatus::Cancelled,
            "its parent run ended",
            None,
            now,
            effects,
        )?;
    }
    finish_run(conn, run, status, Some(reason), error, now, effects)
}

pub fn cancel_run(conn: &Connection, run: RunId, reason: &str, now: Millis) -> Result<Effects> {
    let mut effects = Effects::default();
    let finished: Option<Option<i64>> = conn
        .prepare_cached("SELECT finished_at FROM runs WHERE id = ?1")?
        .query_row([run.to_string()], |row| row.get(0))
        .optional()?;
    match finished {
        None => Err(StoreError::NotFound {
            kind: "run",
            id: run.to_string(),
        }),
        Some(Some(_)) => Ok(effects),
        Some(None) => {
            end_run(
                conn,
                run,
                RunStatus::Cancelled,
                reason,
                None,
                now,
                &mut effects,
            )?;
            Ok(effects)
        }
    }
}
