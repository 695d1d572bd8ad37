//! Read queries, run on the reader connections.

use muster_model::{EventId, RunId};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use super::apply::parse_id;
use crate::Result;
use crate::records::*;
use crate::time::Millis;

const RUN_COLUMNS: &str =
    "id, playbook, version, status, reason, error, trigger_action, parent_run, parent_task,
     output, pending, waiting, events, created_at, updated_at, finished_at";

fn json(text: Option<String>) -> rusqlite::Result<Option<Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

fn id<T: std::str::FromStr>(text: String) -> rusqlite::Result<T> {
    parse_id(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn run_record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = row.get(3)?;
    Ok(RunRecord {
        id: id(row.get(0)?)?,
        playbook: row.get(1)?,
        version: row.get(2)?,
        status: status.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
        })?,
        reason: row.get(4)?,
        error: json(row.get(5)?)?,
        trigger_action: row.get(6)?,
        parent_run: row.get::<_, Option<String>>(7)?.map(id).transpose()?,
        parent_task: row.get::<_, Option<String>>(8)?.map(id).transpose()?,
        output: json(row.get(9)?)?,
        pending: row.get(10)?,
        waiting: row.get(11)?,
        events: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        finished_at: row.get(15)?,
    })
}

fn event_record(row: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: id(row.get(0)?)?,
        run_id: id(row.get(1)?)?,
        parent: row.get::<_, Option<String>>(2)?.map(id).transpose()?,
        action: row.get(3)?,
        port: row.get(4)?,
        output: json(Some(row.get(5)?))?.unwrap_or(Value::Null),
        task_id: row.get::<_, Option<String>>(6)?.map(id).transpose()?,
        created_at: row.get(7)?,
    })
}

pub fn run(conn: &Connection, run: RunId) -> Result<Option<RunRecord>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?
        .query_row([run.to_string()], run_record)
        .optional()?)
}

pub fn runs(conn: &Connection, filter: &RunFilter) -> Result<Page<RunRecord>> {
    let mut clauses = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(playbook) = &filter.playbook {
        args.push(SqlValue::Text(playbook.clone()));
        clauses.push(format!("playbook = ?{}", args.len()));
    }
    if let Some(status) = filter.status {
        args.push(SqlValue::Text(status.as_str().to_string()));
        clauses.push(format!("status = ?{}", args.len()));
    }
    if let Some(parent) = filter.parent_run {
        args.push(SqlValue::Text(parent.to_string()));
        clauses.push(format!("parent_run = ?{}", args.len()));
    }
    let where_clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM runs {where_clause}"))?
        .query_row(params_from_iter(args.iter()), |row| row.get(0))?;
    let limit = if filter.limit == 0 { 50 } else { filter.limit };
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs {where_clause} ORDER BY id DESC LIMIT {limit} OFFSET {}",
        filter.offset
    );
    let items = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args.iter()), run_record)?
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        total: total as u64,
    })
}

const EVENT_COLUMNS: &str = "id, run_id, parent_id, action, port, output, task_id, created_at";

pub fn run_events(conn: &Connection, run: RunId) -> Result<Vec<EventRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE run_id = ?1 ORDER BY id"
        ))?
        .query_map([run.to_string()], event_record)?
        .collect::<Result<_, _>>()?)
}

pub fn run_tasks(conn: &Connection, run: RunId) -> Result<Vec<TaskRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, run_id, action, input_event, status, run_at, attempt, reason, created_at
             FROM tasks WHERE run_id = ?1 ORDER BY created_at, id",
        )?
        .query_map([run.to_string()], |row| {
            Ok(TaskRecord {
                id: id(row.get(0)?)?,
                run_id: id(row.get(1)?)?,
                action: row.get(2)?,
                input_event: id(row.get(3)?)?,
                status: row.get(4)?,
                run_at: row.get(5)?,
                attempt: row.get(6)?,
                reason: row.get(7)?,
                created_at: row.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

pub fn event(conn: &Connection, event: EventId) -> Result<Option<EventRecord>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"))?
        .query_row([event.to_string()], event_record)
        .optional()?)
}

pub fn event_chain(conn: &Connection, event: EventId) -> Result<Vec<EventRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "WITH RECURSIVE chain(id, depth) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT e.parent_id, chain.depth + 1 FROM events e JOIN chain ON e.id = chain.id
                 WHERE e.parent_id IS NOT NULL
             )
             SELECT {EVENT_COLUMNS} FROM events JOIN chain USING (id) ORDER BY chain.depth"
        ))?
        .query_map([event.to_string()], event_record)?
        .collect::<Result<_, _>>()?)
}

pub fn group_items(conn: &Connection, key: &str) -> Result<Vec<Value>> {
    let rows: Vec<String> = conn
        .prepare_cached("SELECT item FROM group_items WHERE key = ?1 ORDER BY idx")?
        .query_map([key], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    rows.iter()
        .map(|text| serde_json::from_str(text).map_err(Into::into))
        .collect()
}

pub fn state(conn: &Connection, scope: &str, key: &str, now: Millis) -> Result<Option<StateEntry>> {
    let row: Option<(String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT value, version, expires_at FROM action_state
             WHERE scope = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
        )?
        .query_row(params![scope, key, now], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    row.map(|(value, version, expires_at)| {
        Ok(StateEntry {
            value: serde_json::from_str(&value)?,
            version,
            expires_at,
        })
    })
    .transpose()
}

pub fn schedules(conn: &Connection) -> Result<Vec<ScheduleRecord>> {
    Ok(conn
        .prepare_cached("SELECT playbook, action, next_at FROM schedules ORDER BY next_at")?
        .query_map([], |row| {
            Ok(ScheduleRecord {
                playbook: row.get(0)?,
                action: row.get(1)?,
                next_at: row.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

pub fn queue_stats(conn: &Connection, now: Millis) -> Result<QueueStats> {
    let (ready, claimed, waiting, oldest): (i64, i64, i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT
                 (SELECT COUNT(*) FROM tasks WHERE status IN ('ready', 'waiting') AND run_at <= ?1),
                 (SELECT COUNT(*) FROM tasks WHERE status = 'claimed'),
                 (SELECT COUNT(*) FROM tasks WHERE status = 'waiting' AND (run_at IS NULL OR run_at > ?1)),
                 (SELECT MIN(run_at) FROM tasks WHERE status IN ('ready', 'waiting') AND run_at <= ?1)",
        )?
        .query_row([now], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?;
    Ok(QueueStats {
        ready: ready as u64,
        claimed: claimed as u64,
        waiting: waiting as u64,
        oldest_ready_age_ms: oldest.map(|at| (now - at).max(0)),
    })
}

pub fn run_counts(conn: &Connection) -> Result<Vec<(RunStatus, u64)>> {
    let rows: Vec<(String, i64)> = conn
        .prepare_cached("SELECT status, COUNT(*) FROM runs GROUP BY status")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(status, n)| status.parse().ok().map(|s| (s, n as u64)))
        .collect())
}

pub fn playbook_names_with_runs(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT DISTINCT playbook FROM runs WHERE finished_at IS NOT NULL")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?)
}
