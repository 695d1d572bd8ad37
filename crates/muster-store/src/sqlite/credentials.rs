//! Credentials (sealed values and their metadata) and store-wide settings such as the master
//! key check. Sealing and unsealing happen in the engine: this file only moves bytes.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::Result;
use crate::records::CredentialRecord;

const SELECT: &str =
    "SELECT name, kind, sealed, allowed_domains, description, created_at, updated_at, rotated_at
     FROM credentials";

fn record(row: &Row<'_>) -> rusqlite::Result<CredentialRecord> {
    let domains: String = row.get(3)?;
    Ok(CredentialRecord {
        name: row.get(0)?,
        kind: row.get(1)?,
        sealed: row.get(2)?,
        allowed_domains: serde_json::from_str(&domains).unwrap_or_default(),
        description: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        rotated_at: row.get(7)?,
    })
}

/// Inserts or replaces a credential; a replaced credential keeps its `created_at`.
pub fn put(conn: &Connection, credential: &CredentialRecord) -> Result<()> {
    let domains = serde_json::to_string(&credential.allowed_domains)?;
    conn.prepare_cached(
        "INSERT INTO credentials (name, kind, sealed, allowed_domains, description, created_at, updated_at, rotated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (name) DO UPDATE SET kind = ?2, sealed = ?3, allowed_domains = ?4,
             description = ?5, updated_at = ?7, rotated_at = ?8",
    )?
    .execute(params![
        credential.name,
        credential.kind,
        credential.sealed,
        domains,
        credential.description,
        credential.created_at,
        credential.updated_at,
        credential.rotated_at,
    ])?;
    Ok(())
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<CredentialRecord>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE name = ?1"))?
        .query_row([name], record)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<CredentialRecord>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} ORDER BY name"))?
        .query_map([], record)?
        .collect::<Result<_, _>>()?)
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    let removed = conn
        .prepare_cached("DELETE FROM credentials WHERE name = ?1")?
        .execute([name])?;
    Ok(removed == 1)
}

pub fn reseal(
    conn: &Connection,
    sealed: &[(String, Vec<u8>)],
    (key, value): &(String, Vec<u8>),
) -> Result<()> {
    for (name, bytes) in sealed {
        let changed = conn
            .prepare_cached("UPDATE credentials SET sealed = ?2 WHERE name = ?1")?
            .execute(params![name, bytes])?;
        if changed != 1 {
            return Err(crate::StoreError::NotFound {
                kind: "credential",
                id: name.clone(),
            });
        }
    }
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = ?2",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub fn setting(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

/// Stores `value` under `key` unless the key is set; returns what is stored now.
pub fn init_setting(conn: &Connection, key: &str, value: &[u8]) -> Result<Vec<u8>> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
    )?
    .execute(params![key, value])?;
    Ok(setting(conn, key)?.unwrap_or_default())
}
