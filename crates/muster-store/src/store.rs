//! The storage contract shared by every implementation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use muster_model::{EventId, RunId, TaskId};
use tokio::sync::oneshot;

use crate::records::*;
use crate::writes::*;
use crate::{Result, StoreError};

/// Resolves when a submitted write is durable (or failed).
///
/// Submitting is synchronous, so a caller can go on working while the write waits for its
/// group commit; writes of one store commit in submission order.
#[must_use = "a write's outcome is only known by awaiting its ticket"]
pub struct CommitTicket<T> {
    receiver: oneshot::Receiver<Result<T>>,
}

impl<T> CommitTicket<T> {
    /// A ticket and the sender that resolves it.
    pub fn channel() -> (oneshot::Sender<Result<T>>, Self) {
        let (sender, receiver) = oneshot::channel();
        (sender, Self { receiver })
    }

    /// A ticket that is already resolved.
    pub fn ready(result: Result<T>) -> Self {
        let (sender, ticket) = Self::channel();
        let _ = sender.send(result);
        ticket
    }
}

impl<T> Future for CommitTicket<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.receiver)
            .poll(cx)
            .map(|received| received.unwrap_or(Err(StoreError::Closed)))
    }
}

/// Durable storage of playbooks, runs, events and the task queue.
///
/// Implementations must not assume they are the only process: claims carry leases that
/// expire, completions present the claim's fencing token, and every write is atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- playbooks -------------------------------------------------------------------------

    /// Stores `source` as the playbook's new current version, unless it equals the current
    /// version's source. Returns the current record.
    async fn put_playbook(
        &self,
        name: &str,
        source: &str,
        team: Option<&str>,
        description: Option<&str>,
    ) -> Result<PlaybookRecord>;
    async fn playbook(&self, name: &str) -> Result<Option<PlaybookRecord>>;
    async fn playbook_version(&self, name: &str, version: i64) -> Result<Option<PlaybookRecord>>;
    async fn playbooks(&self) -> Result<Vec<PlaybookRecord>>;
    /// Deletes the playbook (its past runs stay until retention prunes them).
    async fn delete_playbook(&self, name: &str) -> Result<bool>;
    async fn set_playbook_enabled(&self, name: &str, enabled: bool) -> Result<bool>;

    // --- credentials, resources and settings ------------------------------------------------

    /// Inserts or replaces a credential (a replaced one keeps its `created_at`).
    async fn put_credential(&self, credential: CredentialRecord) -> Result<()>;
    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>>;
    async fn credentials(&self) -> Result<Vec<CredentialRecord>>;
    async fn delete_credential(&self, name: &str) -> Result<bool>;
    async fn put_resource(
        &self,
        name: &str,
        value: &serde_json::Value,
        description: Option<&str>,
    ) -> Result<ResourceRecord>;
    async fn resource(&self, name: &str) -> Result<Option<ResourceRecord>>;
    async fn resources(&self) -> Result<Vec<ResourceRecord>>;
    async fn delete_resource(&self, name: &str) -> Result<bool>;
    /// Replaces every credential's sealed value and one setting (the master key check) in
    /// one transaction: a master-key rotation is all or nothing.
    async fn reseal_credentials(
        &self,
        sealed: Vec<(String, Vec<u8>)>,
        setting: (String, Vec<u8>),
    ) -> Result<()>;
    async fn setting(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key` unless the key is set (by any process); returns the value
    /// stored now.
    async fn init_setting(&self, key: &str, value: Vec<u8>) -> Result<Vec<u8>>;

    // --- execution: each call is one transaction --------------------------------------------

    fn start_run(&self, start: StartRun) -> CommitTicket<Effects>;
    fn complete(&self, completion: Completion) -> CommitTicket<Effects>;
    /// Claims up to `limit` due tasks for `worker` until `lease_until`.
    fn claim(&self, worker: &str, limit: u32, lease_until: i64, now: i64) -> CommitTicket<Claimed>;
    /// Extends the leases of `tasks` held by `worker`; returns how many are still held.
    fn heartbeat(&self, worker: &str, tasks: Vec<TaskId>, lease_until: i64) -> CommitTicket<u64>;
    /// Releases every claim `worker` holds (graceful shutdown).
    fn release(&self, worker: &str) -> CommitTicket<u64>;
    /// Cancels a run that is not finished, its pending tasks and its child runs.
    fn cancel_run(&self, run: RunId, reason: &str) -> CommitTicket<Effects>;
    /// Deletes finished runs (and their events) of `playbook` that finished before `before`;
    /// at most `limit` runs per call. Returns how many were deleted.
    fn prune_runs(&self, playbook: &str, before: i64, limit: u32) -> CommitTicket<u64>;
    /// Deletes expired action state (deduplication keys, throttle slots).
    fn prune_state(&self, now: i64) -> CommitTicket<u64>;
    /// Sets a schedule's next firing time (creating it), or removes it when `next_at` is `None`.
    fn set_schedule(&self, playbook: &str, action: &str, next_at: Option<i64>) -> CommitTicket<()>;

    // --- reads ----------------------------------------------------------------------------

    async fn run(&self, id: RunId) -> Result<Option<RunRecord>>;
    async fn runs(&self, filter: &RunFilter) -> Result<Page<RunRecord>>;
    /// Every event of a run, oldest first.
    async fn run_events(&self, run: RunId) -> Result<Vec<EventRecord>>;
    async fn run_tasks(&self, run: RunId) -> Result<Vec<TaskRecord>>;
    async fn event(&self, id: EventId) -> Result<Option<EventRecord>>;
    /// The event and its ancestors up to the trigger, nearest first.
    async fn event_chain(&self, id: EventId) -> Result<Vec<EventRecord>>;
    /// The items collected in an implode group, by index.
    async fn group_items(&self, key: &str) -> Result<Vec<serde_json::Value>>;
    async fn state(&self, scope: &str, key: &str, now: i64) -> Result<Option<StateEntry>>;
    async fn schedules(&self) -> Result<Vec<ScheduleRecord>>;
    /// Names of playbooks that have finished runs (including deleted playbooks).
    async fn playbook_names_with_runs(&self) -> Result<Vec<String>>;
    async fn queue_stats(&self, now: i64) -> Result<QueueStats>;
    /// Run counts by status, for metrics.
    async fn run_counts(&self) -> Result<Vec<(RunStatus, u64)>>;
    /// Whether the store answers (readiness).
    async fn ping(&self) -> Result<()>;
}
