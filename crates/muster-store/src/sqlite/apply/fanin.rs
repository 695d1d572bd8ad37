//! Durable action state (optimistic writes) and implode groups.

use rusqlite::{Connection, OptionalExtension, params};

use crate::time::Millis;
use crate::writes::*;
use crate::{Result, StoreError};

use super::*;

pub(super) fn apply_state_writes(
    conn: &Connection,
    writes: &[StateWrite],
    now: Millis,
) -> Result<()> {
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

pub(super) fn apply_group_ops(
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
