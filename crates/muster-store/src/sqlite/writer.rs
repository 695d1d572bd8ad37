//! The single writer thread: applies write jobs in submission order and commits them in
//! groups, so that throughput does not hinge on one fsync per event.
//!
//! A job that fails (a lost claim, a conflict) must leave no trace while the other jobs of its
//! group commit. Savepoints give that, but each one costs page copies into the sub-journal;
//! since failures are rare, a group first runs without them, and only when some job failed is
//! it rolled back and run again with a savepoint per job. Results are delivered only after the
//! group's COMMIT returned: a caller told "done" can rely on it surviving a crash.

use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::mpsc;

use crate::store::CommitTicket;
use crate::{Result, StoreError};

/// The most jobs committed in one transaction.
const MAX_GROUP: usize = 512;

/// One write, type-erased for the queue.
trait Job: Send {
    /// Applies the job; returns whether it succeeded.
    fn apply(&mut self, conn: &Connection, isolated: bool) -> bool;
    fn finish(self: Box<Self>, commit: &Result<()>);
}

struct TypedJob<R, F> {
    work: Option<F>,
    outcome: Option<Result<R>>,
    reply: tokio::sync::oneshot::Sender<Result<R>>,
}

impl<R, F> Job for TypedJob<R, F>
where
    R: Send,
    F: Fn(&Connection) -> Result<R> + Send,
{
    fn apply(&mut self, conn: &Connection, isolated: bool) -> bool {
        let Some(work) = &self.work else { return false };
        let outcome = if isolated {
            in_savepoint(conn, work)
        } else {
            work(conn)
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, commit: &Result<()>) {
        let result = match commit {
            Ok(()) => self
                .outcome
                .unwrap_or_else(|| Err(StoreError::Database("write job was not applied".into()))),
            Err(err) => Err(err.clone()),
        };
        let _ = self.reply.send(result);
    }
}

/// Runs `work` so that its writes vanish if it fails, without aborting the group.
fn in_savepoint<R>(conn: &Connection, work: impl Fn(&Connection) -> Result<R>) -> Result<R> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let outcome = work(conn);
    match &outcome {
        Ok(_) => conn.prepare_cached("RELEASE job")?.execute([]).map(drop)?,
        Err(_) => conn.execute_batch("ROLLBACK TO job; RELEASE job")?,
    }
    outcome
}

enum Message {
    Job(Box<dyn Job>),
    /// Commit what came before, then stop.
    Stop,
}

/// Handle to the writer thread.
pub struct Writer {
    sender: mpsc::UnboundedSender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection) -> Result<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("muster-sqlite-writer".into())
            .spawn(move || run(conn, receiver))
            .map_err(|e| {
                StoreError::Database(format!("cannot start the writer thread: {e}").into())
            })?;
        Ok(Self {
            sender,
            thread: Some(thread),
        })
    }

    /// Queues `work` to run in the next group transaction.
    pub fn submit<R, F>(&self, work: F) -> CommitTicket<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, ticket) = CommitTicket::channel();
        let job = TypedJob {
            work: Some(work),
            outcome: None,
            reply,
        };
        if let Err(mpsc::error::SendError(Message::Job(job))) =
            self.sender.send(Message::Job(Box::new(job)))
        {
            job.finish(&Err(StoreError::Closed));
        }
        ticket
    }
}

impl Drop for Writer {
    /// Waits until everything submitted before is committed, so that the database is quiet
    /// when the store (and its directory lock) goes away.
    fn drop(&mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: Connection, mut receiver: mpsc::UnboundedReceiver<Message>) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_GROUP);
    let mut stopping = false;
    while !stopping {
        match receiver.blocking_recv() {
            Some(Message::Job(job)) => group.push(job),
            Some(Message::Stop) | None => break,
        }
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(Message::Job(job)) => group.push(job),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let commit = commit_group(&conn, &mut group);
        metrics::histogram!("muster_store_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("muster_store_commit_jobs").record(group.len() as f64);
        if let Err(err) = &commit {
            tracing::error!(error = %err, jobs = group.len(), "group commit failed");
        }
        for job in group.drain(..) {
            job.finish(&commit);
        }
    }
}

fn commit_group(conn: &Connection, group: &mut [Box<dyn Job>]) -> Result<()> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let mut all_ok = true;
    for job in group.iter_mut() {
        all_ok &= job.apply(conn, false);
    }
    if !all_ok {
        // Undo everything, including what a failed job half-wrote, and run the group again
        // with each job in a savepoint of its own.
        conn.execute_batch("ROLLBACK")?;
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        for job in group.iter_mut() {
            job.apply(conn, true);
        }
    }
    match conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]))
    {
        Ok(_) => Ok(()),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err.into())
        }
    }
}
