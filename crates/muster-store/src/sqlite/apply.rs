//! The write transactions of the task queue and run state machine.
//!
//! Every function here runs inside the writer's group transaction, in its own savepoint: it
//! either applies completely or returns an error and leaves nothing behind.

use muster_model::{RunId, TaskId};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::records::{ClaimedTask, RunStatus};
use crate::time::Millis;
use crate::writes::*;
use crate::{Result, StoreError};

/// Changes to a run's counters, applied together at the end of a write.
#[derive(Default)]
struct RunDelta {
    pending: i64,
    waiting: i64,
    events: i64,
}

/// What to do with a run's `reason`.
enum Reason {
    /// Keep it, unless the run went back to running (then clear it).
    Keep,
    Set(String),
}

pub fn start_run(conn: &Connection, start: &StartRun) -> Result<Effects> {
    let mut effects = Effects::default();
    start_run_into(conn, start, &mut effects)?;
    Ok(effects)
}

fn start_run_into(conn: &Connection, start: &StartRun, effects: &mut Effects) -> Result<()> {
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

/// Records in `effects` whether new tasks wait for any worker or for a time.
fn note_new_tasks(tasks: &[NewTask], effects: &mut Effects) {
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

fn insert_event(
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

fn insert_task(
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
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
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
        now
    ])?;
    delta.pending += 1;
    Ok(())
}

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

fn cap_error(action: &str, cap: u64) -> TaskError {
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
fn park_task(
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
fn take_task(conn: &Connection, task: TaskId, claim: i64) -> Result<()> {
    let removed = conn
        .prepare_cached("DELETE FROM tasks WHERE id = ?1 AND status = 'claimed' AND claims = ?2")?
        .execute(params![task.to_string(), claim])?;
    ensure_held(removed, task)
}

fn ensure_held(changed: usize, task: TaskId) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::LostClaim {
            task: task.to_string(),
        })
    }
}

fn apply_state_writes(conn: &Connection, writes: &[StateWrite], now: Millis) -> Result<()> {
    for write in writes {
        let current: Option<(i64, Option<i64>)> = conn
            .prepare_cached(
                "SELECT version, expires_at FROM action_state WHERE scope = ?1 AND key = ?2",
            )?
            .query_row(params![write.scope, write.key], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let live = current.filter(|(_, expires)| expires.is_none_or(|at| at > now));
        let ok = match write.expect {
            StateExpect::Any => true,
            StateExpect::Absent => live.is_none(),
            StateExpect::Version(v) => live.is_some_and(|(version, _)| version == v),
        };
        if !ok {
            return Err(StoreError::Conflict(format!(
                "state {}/{} changed concurrently",
                write.scope, write.key
            )));
        }
        match &write.value {
            Some(value) => {
                let version = current.map_or(1, |(v, _)| v + 1);
                conn.prepare_cached(
                    "INSERT INTO action_state (scope, key, value, version, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (scope, key) DO UPDATE SET value = ?3, version = ?4, expires_at = ?5",
                )?
                .execute(params![write.scope, write.key, value, version, write.expires_at])?;
            }
            None => {
                conn.prepare_cached("DELETE FROM action_state WHERE scope = ?1 AND key = ?2")?
                    .execute(params![write.scope, write.key])?;
            }
        }
    }
    Ok(())
}

fn apply_group_ops(
    conn: &Connection,
    completion: &Completion,
    delta: &mut RunDelta,
    effects: &mut Effects,
) -> Result<()> {
    let now = completion.now;
    for op in &completion.group_ops {
        match op {
            GroupOp::Add {
                key,
                index,
                item_json,
                expected,
                flush_task,
            } => {
                let created = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO groups (key, run_id, flush_task, expected, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![key, completion.run.to_string(), flush_task.id.to_string(), expected, now])?;
                let flush_id: String = if created == 1 {
                    insert_task(
                        conn,
                        completion.run,
                        &completion.playbook,
                        completion.version,
                        flush_task,
                        now,
                        delta,
                    )?;
                    note_new_tasks(std::slice::from_ref(flush_task), effects);
                    flush_task.id.to_string()
                } else {
                    conn.prepare_cached("SELECT flush_task FROM groups WHERE key = ?1")?
                        .query_row([key], |row| row.get(0))?
                };
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO group_items (key, idx, item) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![key, index, item_json])?;
                let (count, expected): (i64, Option<i64>) = conn
                    .prepare_cached(
                        "SELECT (SELECT COUNT(*) FROM group_items WHERE key = ?1), expected FROM groups WHERE key = ?1",
                    )?
                    .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))?;
                if expected.is_some_and(|n| count >= n) {
                    let woke = conn
                        .prepare_cached(
                            "UPDATE tasks SET status = 'ready', run_at = ?2, updated_at = ?2
                             WHERE id = ?1 AND status = 'waiting'",
                        )?
                        .execute(params![flush_id, now])?;
                    if woke == 1 {
                        delta.waiting -= 1;
                        effects.tasks_due = true;
                    }
                }
            }
            GroupOp::Take { key, items_seen } => {
                let count: i64 = conn
                    .prepare_cached("SELECT COUNT(*) FROM group_items WHERE key = ?1")?
                    .query_row([key], |row| row.get(0))?;
                if count != *items_seen {
                    return Err(StoreError::Conflict(format!(
                        "group {key} holds {count} items, the flush saw {items_seen}"
                    )));
                }
                conn.prepare_cached("DELETE FROM group_items WHERE key = ?1")?
                    .execute([key])?;
                conn.prepare_cached("DELETE FROM groups WHERE key = ?1")?
                    .execute([key])?;
            }
        }
    }
    Ok(())
}

/// Applies counter changes and moves the run to the status they imply.
fn apply_delta(
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
fn finish_run(
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
fn fail_run(
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
fn end_run(
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

pub fn claim(
    conn: &Connection,
    worker: &str,
    limit: u32,
    lease_until: Millis,
    now: Millis,
) -> Result<Claimed> {
    let mut candidates: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT id, run_id, status FROM tasks
             WHERE status IN ('ready', 'waiting') AND run_at <= ?1
             ORDER BY run_at LIMIT ?2",
        )?
        .query_map(params![now, limit], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let room = (limit as usize).saturating_sub(candidates.len());
    if room > 0 {
        let expired: Vec<(String, String, String)> = conn
            .prepare_cached(
                "SELECT id, run_id, status FROM tasks
                 WHERE status = 'claimed' AND lease_until < ?1
                 ORDER BY lease_until LIMIT ?2",
            )?
            .query_map(params![now, room as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        candidates.extend(expired);
    }
    let mut claimed = Claimed::default();
    let mut effects = Effects::default();
    for (id, run_id, status) in candidates {
        let task = conn
            .prepare_cached(
                "UPDATE tasks SET status = 'claimed', lease_owner = ?2, lease_until = ?3,
                                  claims = claims + 1, updated_at = ?4
                 WHERE id = ?1
                 RETURNING id, run_id, playbook, version, action, input_event, attempt, claims, state",
            )?
            .query_row(params![id, worker, lease_until, now], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, u32>(6)?,
                    row.get::<_, i64>(7)?,
                    row.get::<_, Option<String>>(8)?,
                ))
            })?;
        if status == "waiting" {
            let delta = RunDelta {
                waiting: -1,
                ..RunDelta::default()
            };
            apply_delta(
                conn,
                parse_id(&run_id)?,
                delta,
                Reason::Keep,
                now,
                &mut effects,
            )?;
        }
        let (id, run_id, playbook, version, action, input_event, attempt, claims, state) = task;
        claimed.tasks.push(ClaimedTask {
            id: parse_id(&id)?,
            run_id: parse_id(&run_id)?,
            playbook,
            version,
            action,
            input_event: parse_id(&input_event)?,
            attempt,
            claim: claims,
            state: state.as_deref().map(serde_json::from_str).transpose()?,
        });
    }
    claimed.next_due = conn
        .prepare_cached(
            "SELECT MIN(run_at) FROM tasks WHERE status IN ('ready', 'waiting') AND run_at > ?1",
        )?
        .query_row([now], |row| row.get(0))?;
    Ok(claimed)
}

pub fn heartbeat(
    conn: &Connection,
    worker: &str,
    tasks: &[TaskId],
    lease_until: Millis,
) -> Result<u64> {
    let mut statement = conn.prepare_cached(
        "UPDATE tasks SET lease_until = ?3 WHERE id = ?1 AND status = 'claimed' AND lease_owner = ?2",
    )?;
    let mut held = 0;
    for task in tasks {
        held += statement.execute(params![task.to_string(), worker, lease_until])?;
    }
    Ok(held as u64)
}

pub fn release(conn: &Connection, worker: &str, now: Millis) -> Result<u64> {
    let n = conn
        .prepare_cached(
            "UPDATE tasks SET status = 'ready', lease_owner = NULL, lease_until = NULL, updated_at = ?2
             WHERE status = 'claimed' AND lease_owner = ?1",
        )?
        .execute(params![worker, now])?;
    Ok(n as u64)
}

/// Releases every claim, whoever holds it: only safe when this process owns the database.
pub fn release_all(conn: &Connection, now: Millis) -> Result<u64> {
    let n = conn
        .prepare_cached(
            "UPDATE tasks SET status = 'ready', lease_owner = NULL, lease_until = NULL, updated_at = ?1
             WHERE status = 'claimed'",
        )?
        .execute([now])?;
    Ok(n as u64)
}

pub fn prune_runs(conn: &Connection, playbook: &str, before: Millis, limit: u32) -> Result<u64> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM runs WHERE playbook = ?1 AND finished_at IS NOT NULL AND finished_at < ?2 LIMIT ?3",
        )?
        .query_map(params![playbook, before, limit], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        conn.prepare_cached("DELETE FROM events WHERE run_id = ?1")?
            .execute([id])?;
        conn.prepare_cached("DELETE FROM runs WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(ids.len() as u64)
}

pub fn prune_state(conn: &Connection, now: Millis) -> Result<u64> {
    let n = conn
        .prepare_cached(
            "DELETE FROM action_state WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        )?
        .execute([now])?;
    Ok(n as u64)
}

pub fn set_schedule(
    conn: &Connection,
    playbook: &str,
    action: &str,
    next_at: Option<Millis>,
) -> Result<()> {
    match next_at {
        Some(at) => conn
            .prepare_cached(
                "INSERT INTO schedules (playbook, action, next_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (playbook, action) DO UPDATE SET next_at = ?3",
            )?
            .execute(params![playbook, action, at])?,
        None => conn
            .prepare_cached("DELETE FROM schedules WHERE playbook = ?1 AND action = ?2")?
            .execute(params![playbook, action])?,
    };
    Ok(())
}

pub(crate) fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| StoreError::Database(format!("stored id {text:?} is not a UUID").into()))
}
