//! Waiting for a run's result: the run's `exit` output or its end, whichever comes first.
//!
//! Runs finishing in this process are announced at once; a periodic look at the store covers
//! runs finished by other processes.

use std::collections::HashMap;
use std::sync::Mutex;

use muster_model::RunId;
use muster_store::RunStatus;
use serde_json::Value;
use tokio::sync::oneshot;

/// What a waiter learns about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub run_id: RunId,
    /// `None` while the run is still going (its `exit` output arrived first).
    pub status: Option<RunStatus>,
    pub output: Option<Value>,
    pub reason: Option<String>,
}

/// Registered waiters by run.
#[derive(Default)]
pub struct Watchers {
    waiting: Mutex<HashMap<RunId, Vec<oneshot::Sender<RunResult>>>>,
}

impl Watchers {
    /// Registers interest in `run`; register before starting the run to miss nothing.
    pub fn watch(&self, run: RunId) -> oneshot::Receiver<RunResult> {
        let (sender, receiver) = oneshot::channel();
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.entry(run).or_default().push(sender);
        }
        receiver
    }

    /// Forgets the waiters of `run` (after a timeout).
    pub fn forget(&self, run: RunId) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.remove(&run);
        }
    }

    /// Delivers `result` to everyone waiting for its run.
    pub fn announce(&self, result: RunResult) {
        let senders = match self.waiting.lock() {
            Ok(mut waiting) => waiting.remove(&result.run_id),
            Err(_) => None,
        };
        for sender in senders.into_iter().flatten() {
            let _ = sender.send(result.clone());
        }
    }
}
