//! Waiting for a run's result: the run's `exit` output or its end, whichever comes first.
//!
//! Runs finishing in this process are announced at once; a periodic look at the store covers
//! runs finished by other processes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

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

/// One waiter's side: resolves with the run's result. Dropping it (a timeout, a client that
/// went away) unregisters it, so waiters of runs that never end do not accumulate.
pub struct Watch {
    run: RunId,
    receiver: oneshot::Receiver<RunResult>,
    watchers: Arc<Watchers>,
}

impl Future for Watch {
    type Output = Option<RunResult>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.receiver).poll(cx).map(Result::ok)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.receiver.close();
        self.watchers.prune(self.run);
    }
}

impl Watchers {
    /// Registers interest in `run`; register before starting the run to miss nothing.
    pub fn watch(self: &Arc<Self>, run: RunId) -> Watch {
        let (sender, receiver) = oneshot::channel();
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.entry(run).or_default().push(sender);
        }
        Watch {
            run,
            receiver,
            watchers: self.clone(),
        }
    }

    /// Removes the waiters of `run` that stopped waiting.
    fn prune(&self, run: RunId) {
        if let Ok(mut waiting) = self.waiting.lock()
            && let Some(senders) = waiting.get_mut(&run)
        {
            senders.retain(|sender| !sender.is_closed());
            if senders.is_empty() {
                waiting.remove(&run);
            }
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

    /// How many runs have waiters.
    #[cfg(test)]
    fn watched_runs(&self) -> usize {
        self.waiting.lock().map(|w| w.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_waiters_are_unregistered_and_others_kept() {
        let watchers = Arc::new(Watchers::default());
        let run = RunId::new();
        let first = watchers.watch(run);
        let second = watchers.watch(run);
        drop(first);
        assert_eq!(
            watchers.watched_runs(),
            1,
            "the second waiter is still registered"
        );
        drop(second);
        assert_eq!(watchers.watched_runs(), 0);
    }
}
