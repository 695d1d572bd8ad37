//! What reads return: runs, events, tasks, playbooks, and queue statistics.

use std::fmt;
use std::str::FromStr;

use muster_model::{EventId, RunId, TaskId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::Millis;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Some task is ready or executing.
    Running,
    /// Every pending task is parked (delay, implode, throttle, child run, retry back-off…).
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("unknown run status {s:?} (expected running, waiting, succeeded, failed or cancelled)")
            })
    }
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub playbook: String,
    pub version: i64,
    pub status: RunStatus,
    /// Why the run is not finished, or why it failed.
    pub reason: Option<String>,
    /// The error that failed the run.
    pub error: Option<Value>,
    pub trigger_action: String,
    pub parent_run: Option<RunId>,
    pub parent_task: Option<TaskId>,
    /// The output of the run's `exit` action, if one ran.
    pub output: Option<Value>,
    /// Tasks not yet finished.
    pub pending: i64,
    /// Of those, tasks parked until a time or a signal.
    pub waiting: i64,
    /// Events recorded so far.
    pub events: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub finished_at: Option<Millis>,
}

/// One recorded event: an action's output for one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: EventId,
    pub run_id: RunId,
    pub parent: Option<EventId>,
    pub action: String,
    pub port: String,
    pub output: Value,
    /// The task that produced the event (`None` for trigger events).
    pub task_id: Option<TaskId>,
    pub created_at: Millis,
}

/// A task handed to a worker by a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTask {
    pub id: TaskId,
    pub run_id: RunId,
    pub playbook: String,
    pub version: i64,
    pub action: String,
    pub input_event: EventId,
    /// Execution attempt (1 for the first; raised by retries, not by crash recovery).
    pub attempt: u32,
    /// Fencing token: completions must present it.
    pub claim: i64,
    /// Continuation state written when the task was parked (delay, child run, …).
    pub state: Option<Value>,
}

/// A pending task as shown to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: TaskId,
    pub run_id: RunId,
    pub action: String,
    pub input_event: EventId,
    pub status: String,
    pub run_at: Option<Millis>,
    pub attempt: u32,
    pub reason: Option<String>,
    pub created_at: Millis,
}

/// A stored playbook version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybookRecord {
    pub name: String,
    pub version: i64,
    pub enabled: bool,
    /// The canonical YAML source.
    pub source: String,
    pub team: Option<String>,
    pub description: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub playbook: Option<String>,
    pub status: Option<RunStatus>,
    pub parent_run: Option<RunId>,
    pub limit: u32,
    pub offset: u64,
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Queue depth and age, for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Tasks due now and not claimed.
    pub ready: u64,
    /// Tasks held by workers.
    pub claimed: u64,
    /// Tasks parked until a later time or a signal.
    pub waiting: u64,
    /// Age in milliseconds of the oldest due, unclaimed task.
    pub oldest_ready_age_ms: Option<i64>,
}

/// A durable value written by an action (deduplication keys, throttle slots).
#[derive(Debug, Clone, PartialEq)]
pub struct StateEntry {
    pub value: Value,
    pub version: i64,
    pub expires_at: Option<Millis>,
}

/// A trigger schedule's next firing time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub playbook: String,
    pub action: String,
    pub next_at: Millis,
}

/// A stored credential: its value sealed (encrypted by the engine), the rest in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub name: String,
    /// The credential type (`text`, `basic`, …).
    pub kind: String,
    /// The encrypted value; the store never sees it in the clear.
    pub sealed: Vec<u8>,
    /// Hosts the credential may be sent to (`api.example.com`, `*.example.com`).
    pub allowed_domains: Vec<String>,
    pub description: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the value was last replaced by a rotation.
    pub rotated_at: Option<Millis>,
}

/// A named non-secret value shared by playbooks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceRecord {
    pub name: String,
    pub value: Value,
    pub description: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}
