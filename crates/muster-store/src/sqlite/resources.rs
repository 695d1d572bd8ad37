//! Resources: named non-secret JSON values shared by playbooks.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use crate::Result;
use crate::records::ResourceRecord;
use crate::time::Millis;

const SELECT: &str = "SELECT name, value, description, created_at, updated_at FROM resources";

fn record(row: &Row<'_>) -> rusqlite::Result<ResourceRecord> {
    let value: String = row.get(1)?;
    Ok(ResourceRecord {
        name: row.get(0)?,
        value: serde_json::from_str(&value).unwrap_or(Value::Null),
        description: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

pub fn put(
    conn: &Connection,
    name: &str,
    value: &Value,
    description: Option<&str>,
    now: Millis,
) -> Result<ResourceRecord> {
    conn.prepare_cached(
        "INSERT INTO resources (name, value, description, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (name) DO UPDATE SET value = ?2, description = ?3, updated_at = ?4",
    )?
    .execute(params![name, value.to_string(), description, now])?;
    get(conn, name)?.ok_or_else(|| crate::StoreError::NotFound {
        kind: "resource",
        id: name.to_string(),
    })
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<ResourceRecord>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE name = ?1"))?
        .query_row([name], record)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<ResourceRecord>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} ORDER BY name"))?
        .query_map([], record)?
        .collect::<Result<_, _>>()?)
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    let removed = conn
        .prepare_cached("DELETE FROM resources WHERE name = ?1")?
        .execute([name])?;
    Ok(removed == 1)
}
