//! The embedded SQLite store: one file in the data directory, WAL mode, one writer thread
//! with group commit, and a pool of reader connections.
//!
//! A data directory belongs to one process at a time (an exclusive lock on `muster.lock`).
//! Because of that, claims left behind by a killed process are released as soon as the next
//! process opens the store, instead of waiting for their leases to expire.

mod apply;
mod checkpoint;
mod credentials;
mod playbooks;
mod read;
mod resources;
mod schema;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use muster_model::{EventId, RunId, TaskId};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::records::*;
use crate::store::{CommitTicket, Store};
use crate::time::now_millis;
use crate::writes::*;
use crate::{Result, StoreError};
use writer::Writer;

pub use schema::SCHEMA_VERSION;

/// How hard SQLite works to make each commit survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync the WAL on every commit: a commit survives power loss (default).
    #[default]
    Full,
    /// fsync only at checkpoints: a commit survives a process crash, not a power loss.
    Normal,
}

/// Settings of the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// Reader connections for API queries.
    pub readers: usize,
    /// Page cache per connection, in KiB.
    pub cache_kib: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            readers: 4,
            cache_kib: 8 * 1024,
        }
    }
}

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    _checkpointer: checkpoint::Checkpointer,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
    path: PathBuf,
    /// Declared last: dropped after the writer has finished.
    _lock: File,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir` (`dir/muster.db`), migrates it, takes the
    /// directory's lock and releases claims left by a previous process.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let lock_path = dir.join("muster.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                StoreError::Invalid(format!("cannot open {}: {e}", lock_path.display()))
            })?;
        lock.try_lock().map_err(|_| {
            StoreError::Invalid(format!(
                "the data directory {} is in use by another muster process (lock {} is held)",
                dir.display(),
                lock_path.display()
            ))
        })?;
        let path = dir.join("muster.db");
        let mut conn = open_connection(&path, &options, false)?;
        schema::migrate(&mut conn)?;
        let released = apply::release_all(&conn, now_millis())?;
        if released > 0 {
            tracing::info!(released, "released tasks claimed by a previous process");
        }
        let readers = (0..options.readers.max(1))
            .map(|_| open_connection(&path, &options, true))
            .collect::<Result<Vec<_>>>()?;
        let writer = Writer::start(conn)?;
        let checkpointer = checkpoint::Checkpointer::start(&path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer,
                _checkpointer: checkpointer,
                reader_slots: Semaphore::new(readers.len()),
                readers: Mutex::new(readers),
                path,
                _lock: lock,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `query` on a reader connection, off the async threads.
    async fn read<R, F>(&self, query: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let _slot = self
            .inner
            .reader_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner
                .readers
                .lock()
                .map_err(|_| StoreError::Closed)?
                .pop()
                .ok_or(StoreError::Closed)?;
            let result = query(&conn);
            if let Ok(mut pool) = inner.readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Database(format!("reader task failed: {e}").into()))?
    }

    fn write<R, F>(&self, work: F) -> CommitTicket<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R> + Send + 'static,
    {
        self.inner.writer.submit(work)
    }
}

fn open_connection(path: &Path, options: &SqliteOptions, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_AUTOCHECKPOINT_PAGES,
        )?;
    }
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_kib))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_playbook(
        &self,
        name: &str,
        source: &str,
        team: Option<&str>,
        description: Option<&str>,
    ) -> Result<PlaybookRecord> {
        let (name, source) = (name.to_string(), source.to_string());
        let (team, description) = (team.map(str::to_string), description.map(str::to_string));
        self.write(move |conn| {
            playbooks::put(
                conn,
                &name,
                &source,
                team.as_deref(),
                description.as_deref(),
                now_millis(),
            )
        })
        .await
    }

    async fn playbook(&self, name: &str) -> Result<Option<PlaybookRecord>> {
        let name = name.to_string();
        self.read(move |conn| playbooks::get(conn, &name)).await
    }

    async fn playbook_version(&self, name: &str, version: i64) -> Result<Option<PlaybookRecord>> {
        let name = name.to_string();
        self.read(move |conn| playbooks::get_version(conn, &name, version))
            .await
    }

    async fn playbooks(&self) -> Result<Vec<PlaybookRecord>> {
        self.read(playbooks::list).await
    }

    async fn delete_playbook(&self, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |conn| playbooks::delete(conn, &name)).await
    }

    async fn set_playbook_enabled(&self, name: &str, enabled: bool) -> Result<bool> {
        let name = name.to_string();
        self.write(move |conn| playbooks::set_enabled(conn, &name, enabled, now_millis()))
            .await
    }

    async fn put_credential(&self, credential: CredentialRecord) -> Result<()> {
        self.write(move |conn| credentials::put(conn, &credential))
            .await
    }

    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>> {
        let name = name.to_string();
        self.read(move |conn| credentials::get(conn, &name)).await
    }

    async fn credentials(&self) -> Result<Vec<CredentialRecord>> {
        self.read(credentials::list).await
    }

    async fn delete_credential(&self, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |conn| credentials::delete(conn, &name))
            .await
    }

    async fn put_resource(
        &self,
        name: &str,
        value: &serde_json::Value,
        description: Option<&str>,
    ) -> Result<ResourceRecord> {
        let (name, value) = (name.to_string(), value.clone());
        let description = description.map(str::to_string);
        self.write(move |conn| {
            resources::put(conn, &name, &value, description.as_deref(), now_millis())
        })
        .await
    }

    async fn resource(&self, name: &str) -> Result<Option<ResourceRecord>> {
        let name = name.to_string();
        self.read(move |conn| resources::get(conn, &name)).await
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>> {
        self.read(resources::list).await
    }

    async fn delete_resource(&self, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |conn| resources::delete(conn, &name)).await
    }

    async fn reseal_credentials(
        &self,
        sealed: Vec<(String, Vec<u8>)>,
        setting: (String, Vec<u8>),
    ) -> Result<()> {
        self.write(move |conn| credentials::reseal(conn, &sealed, &setting))
            .await
    }

    async fn setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let key = key.to_string();
        self.read(move |conn| credentials::setting(conn, &key))
            .await
    }

    async fn init_setting(&self, key: &str, value: Vec<u8>) -> Result<Vec<u8>> {
        let key = key.to_string();
        self.write(move |conn| credentials::init_setting(conn, &key, &value))
            .await
    }

    fn start_run(&self, start: StartRun) -> CommitTicket<Effects> {
        self.write(move |conn| apply::start_run(conn, &start))
    }

    fn complete(&self, completion: Completion) -> CommitTicket<Effects> {
        self.write(move |conn| apply::complete(conn, &completion))
    }

    fn claim(&self, worker: &str, limit: u32, lease_until: i64, now: i64) -> CommitTicket<Claimed> {
        let worker = worker.to_string();
        self.write(move |conn| apply::claim(conn, &worker, limit, lease_until, now))
    }

    fn heartbeat(&self, worker: &str, tasks: Vec<TaskId>, lease_until: i64) -> CommitTicket<u64> {
        let worker = worker.to_string();
        self.write(move |conn| apply::heartbeat(conn, &worker, &tasks, lease_until))
    }

    fn release(&self, worker: &str) -> CommitTicket<u64> {
        let worker = worker.to_string();
        self.write(move |conn| apply::release(conn, &worker, now_millis()))
    }

    fn cancel_run(&self, run: RunId, reason: &str) -> CommitTicket<Effects> {
        let reason = reason.to_string();
        self.write(move |conn| apply::cancel_run(conn, run, &reason, now_millis()))
    }

    fn prune_runs(&self, playbook: &str, before: i64, limit: u32) -> CommitTicket<u64> {
        let playbook = playbook.to_string();
        self.write(move |conn| apply::prune_runs(conn, &playbook, before, limit))
    }

    fn prune_state(&self, now: i64) -> CommitTicket<u64> {
        self.write(move |conn| apply::prune_state(conn, now))
    }

    fn set_schedule(&self, playbook: &str, action: &str, next_at: Option<i64>) -> CommitTicket<()> {
        let (playbook, action) = (playbook.to_string(), action.to_string());
        self.write(move |conn| apply::set_schedule(conn, &playbook, &action, next_at))
    }

    async fn run(&self, id: RunId) -> Result<Option<RunRecord>> {
        self.read(move |conn| read::run(conn, id)).await
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Page<RunRecord>> {
        let filter = filter.clone();
        self.read(move |conn| read::runs(conn, &filter)).await
    }

    async fn run_events(&self, run: RunId) -> Result<Vec<EventRecord>> {
        self.read(move |conn| read::run_events(conn, run)).await
    }

    async fn run_tasks(&self, run: RunId) -> Result<Vec<TaskRecord>> {
        self.read(move |conn| read::run_tasks(conn, run)).await
    }

    async fn event(&self, id: EventId) -> Result<Option<EventRecord>> {
        self.read(move |conn| read::event(conn, id)).await
    }

    async fn event_chain(&self, id: EventId) -> Result<Vec<EventRecord>> {
        self.read(move |conn| read::event_chain(conn, id)).await
    }

    async fn group_items(&self, key: &str) -> Result<Vec<serde_json::Value>> {
        let key = key.to_string();
        self.read(move |conn| read::group_items(conn, &key)).await
    }

    async fn state(&self, scope: &str, key: &str, now: i64) -> Result<Option<StateEntry>> {
        let (scope, key) = (scope.to_string(), key.to_string());
        self.read(move |conn| read::state(conn, &scope, &key, now))
            .await
    }

    async fn schedules(&self) -> Result<Vec<ScheduleRecord>> {
        self.read(read::schedules).await
    }

    async fn playbook_names_with_runs(&self) -> Result<Vec<String>> {
        self.read(read::playbook_names_with_runs).await
    }

    async fn queue_stats(&self, now: i64) -> Result<QueueStats> {
        self.read(move |conn| read::queue_stats(conn, now)).await
    }

    async fn run_counts(&self) -> Result<Vec<(RunStatus, u64)>> {
        self.read(read::run_counts).await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}
