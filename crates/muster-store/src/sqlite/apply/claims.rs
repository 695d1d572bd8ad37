//! Claims and leases: claiming due tasks, heartbeats, releasing claims.

use muster_model::TaskId;
use rusqlite::{Connection, params};

use crate::Result;
use crate::records::ClaimedTask;
use crate::time::Millis;
use crate::writes::*;

use super::*;

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
