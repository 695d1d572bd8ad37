//! Background WAL checkpoints.
//!
//! SQLite normally checkpoints inside the committing connection when the WAL passes 1,000
//! pages, which stalls the writer (and everyone waiting for a commit) while megabytes are
//! copied into the database file. Instead this thread runs passive checkpoints on its own
//! connection, which copy committed pages without blocking the writer, and the writer's
//! automatic checkpoint only finishes the job (see [`WRITER_AUTOCHECKPOINT_PAGES`]).

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{Result, StoreError};

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(250);

/// WAL size (pages) at which the writer checkpoints by itself. Under sustained writes this
/// thread's passive checkpoints never reach the WAL's last frame, so only the writer's own
/// checkpoint lets the WAL restart; most pages are copied by then, so it is short if it comes
/// often. 2,048 pages (8 MB) was measured against 4,096 and 16,384 with the benchmark
/// workload: the shortest commit stalls for the same throughput.
pub const WRITER_AUTOCHECKPOINT_PAGES: i64 = 2_048;

/// The checkpoint thread; stops when dropped.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(1))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("muster-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(err) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %err, "WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| {
                StoreError::Database(format!("cannot start the checkpoint thread: {e}").into())
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
