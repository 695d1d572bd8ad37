//! Playbook versions: every change of source is a new version; runs keep pointing at the
//! version they started with.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::Result;
use crate::records::PlaybookRecord;
use crate::time::Millis;

const SELECT: &str = "SELECT p.name, v.version, p.enabled, v.source, p.team, p.description, p.created_at, p.updated_at
     FROM playbooks p JOIN playbook_versions v ON v.name = p.name";

fn record(row: &Row<'_>) -> rusqlite::Result<PlaybookRecord> {
    Ok(PlaybookRecord {
        name: row.get(0)?,
        version: row.get(1)?,
        enabled: row.get(2)?,
        source: row.get(3)?,
        team: row.get(4)?,
        description: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

pub fn put(
    conn: &Connection,
    name: &str,
    source: &str,
    team: Option<&str>,
    description: Option<&str>,
    now: Millis,
) -> Result<PlaybookRecord> {
    if let Some(current) = get(conn, name)?
        && current.source == source
    {
        return Ok(current);
    }
    let version: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM playbook_versions WHERE name = ?1",
        )?
        .query_row([name], |row| row.get(0))?;
    conn.prepare_cached(
        "INSERT INTO playbook_versions (name, version, source, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![name, version, source, now])?;
    conn.prepare_cached(
        "INSERT INTO playbooks (name, version, enabled, team, description, created_at, updated_at)
         VALUES (?1, ?2, 1, ?3, ?4, ?5, ?5)
         ON CONFLICT (name) DO UPDATE SET version = ?2, team = ?3, description = ?4, updated_at = ?5",
    )?
    .execute(params![name, version, team, description, now])?;
    get(conn, name)?.ok_or_else(|| crate::StoreError::NotFound {
        kind: "playbook",
        id: name.to_string(),
    })
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<PlaybookRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "{SELECT} AND v.version = p.version WHERE p.name = ?1"
        ))?
        .query_row([name], record)
        .optional()?)
}

pub fn get_version(conn: &Connection, name: &str, version: i64) -> Result<Option<PlaybookRecord>> {
    // Versions outlive a deleted playbook so that its runs can still be shown and finished.
    Ok(conn
        .prepare_cached(
            "SELECT v.name, v.version, COALESCE(p.enabled, 0), v.source, p.team, p.description,
                    v.created_at, COALESCE(p.updated_at, v.created_at)
             FROM playbook_versions v LEFT JOIN playbooks p ON p.name = v.name
             WHERE v.name = ?1 AND v.version = ?2",
        )?
        .query_row(params![name, version], record)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<PlaybookRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "{SELECT} AND v.version = p.version ORDER BY p.name"
        ))?
        .query_map([], record)?
        .collect::<Result<_, _>>()?)
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    let removed = conn
        .prepare_cached("DELETE FROM playbooks WHERE name = ?1")?
        .execute([name])?;
    conn.prepare_cached("DELETE FROM schedules WHERE playbook = ?1")?
        .execute([name])?;
    Ok(removed == 1)
}

pub fn set_enabled(conn: &Connection, name: &str, enabled: bool, now: Millis) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE playbooks SET enabled = ?2, updated_at = ?3 WHERE name = ?1")?
        .execute(params![name, enabled, now])?;
    Ok(changed == 1)
}
