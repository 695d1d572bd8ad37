//! Versioned schema migrations, applied in order on open and recorded in `user_version`.

use rusqlite::Connection;

use crate::Result;

/// Each entry upgrades the schema by one version. Never edit a released entry; append.
const MIGRATIONS: &[&str] = &[
    // 1: playbooks, runs, events, the task queue, fan-in groups, action state, schedules.
    r#"
    CREATE TABLE playbooks (
        name        TEXT PRIMARY KEY,
        version     INTEGER NOT NULL,
        enabled     INTEGER NOT NULL DEFAULT 1,
        team        TEXT,
        description TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE playbook_versions (
        name       TEXT NOT NULL,
        version    INTEGER NOT NULL,
        source     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE runs (
        id             TEXT PRIMARY KEY,
        playbook       TEXT NOT NULL,
        version        INTEGER NOT NULL,
        status         TEXT NOT NULL,
        reason         TEXT,
        error          TEXT,
        trigger_action TEXT NOT NULL,
        parent_run     TEXT,
        parent_task    TEXT,
        output         TEXT,
        pending        INTEGER NOT NULL,
        waiting        INTEGER NOT NULL,
        events         INTEGER NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        finished_at    INTEGER
    );
    CREATE INDEX runs_by_playbook ON runs (playbook, id);
    CREATE INDEX runs_by_status ON runs (status, id);
    CREATE INDEX runs_by_parent ON runs (parent_run) WHERE parent_run IS NOT NULL;
    CREATE INDEX runs_finished ON runs (playbook, finished_at) WHERE finished_at IS NOT NULL;
    CREATE TABLE events (
        id         TEXT PRIMARY KEY,
        run_id     TEXT NOT NULL,
        parent_id  TEXT,
        action     TEXT NOT NULL,
        port       TEXT NOT NULL,
        output     TEXT NOT NULL,
        task_id    TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX events_by_run ON events (run_id);
    CREATE TABLE tasks (
        id          TEXT PRIMARY KEY,
        run_id      TEXT NOT NULL,
        playbook    TEXT NOT NULL,
        version     INTEGER NOT NULL,
        action      TEXT NOT NULL,
        input_event TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('ready', 'claimed', 'waiting')),
        run_at      INTEGER,
        attempt     INTEGER NOT NULL DEFAULT 1,
        claims      INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER,
        state       TEXT,
        reason      TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX tasks_due ON tasks (run_at) WHERE status IN ('ready', 'waiting');
    CREATE INDEX tasks_leased ON tasks (lease_until) WHERE status = 'claimed';
    CREATE INDEX tasks_by_run ON tasks (run_id);
    CREATE TABLE groups (
        key        TEXT PRIMARY KEY,
        run_id     TEXT NOT NULL,
        flush_task TEXT NOT NULL,
        expected   INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX groups_by_run ON groups (run_id);
    CREATE TABLE group_items (
        key  TEXT NOT NULL,
        idx  INTEGER NOT NULL,
        item TEXT NOT NULL,
        PRIMARY KEY (key, idx)
    ) WITHOUT ROWID;
    CREATE TABLE action_state (
        scope      TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        version    INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (scope, key)
    );
    CREATE INDEX action_state_expiry ON action_state (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE schedules (
        playbook TEXT NOT NULL,
        action   TEXT NOT NULL,
        next_at  INTEGER NOT NULL,
        PRIMARY KEY (playbook, action)
    );
    CREATE TABLE once_keys (
        scope      TEXT NOT NULL,
        key        TEXT NOT NULL,
        run_id     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    );
    "#,
    // 2: credentials (sealed values), resources, and store-wide settings (the master key check).
    r#"
    CREATE TABLE credentials (
        name            TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        sealed          BLOB NOT NULL,
        allowed_domains TEXT NOT NULL,
        description     TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        rotated_at      INTEGER
    );
    CREATE TABLE resources (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        description TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    "#,
    // 3: once-only keys are pruned with their run.
    r#"
    CREATE INDEX once_keys_by_run ON once_keys (run_id);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`], refusing databases from newer builds.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(crate::StoreError::Invalid(format!(
            "the database has schema version {current}, newer than this muster build supports \
             ({SCHEMA_VERSION}); upgrade muster"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
