//! Retention and schedules.

use rusqlite::{Connection, params};

use crate::Result;
use crate::time::Millis;

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
        // The once-only keys that started it go with it, or they would pile up forever
        // (one per webhook Idempotency-Key, one per email).
        conn.prepare_cached("DELETE FROM once_keys WHERE run_id = ?1")?
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
