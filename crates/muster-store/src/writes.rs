//! What writes carry. Each operation below is applied in one transaction.

use std::sync::Arc;

use muster_model::{EventId, RunId, TaskId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::records::{ClaimedTask, RunStatus};
use crate::time::Millis;

/// A run to create.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: RunId,
    pub playbook: String,
    pub version: i64,
    pub trigger_action: String,
    /// For child runs: the parent run and the task waiting for this run.
    pub parent: Option<(RunId, TaskId)>,
}

/// An event to record. The output is serialised by the caller, off the writer's path.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub parent: Option<EventId>,
    pub action: String,
    pub port: String,
    pub output_json: String,
    /// The task that produced it, when not the task completed by the write that records it
    /// (steps executed inline with their parent); `None` for that task or for trigger events.
    pub task: Option<TaskId>,
}

/// How a new task starts.
#[derive(Debug, Clone)]
pub enum NewTaskState {
    /// Due at `run_at`, to be claimed by any worker.
    Ready { run_at: Millis },
    /// Already claimed by the worker that creates it (it runs it at once).
    Claimed {
        owner: Arc<str>,
        lease_until: Millis,
    },
    /// Parked until `run_at` (or until signalled when `None`).
    Waiting {
        run_at: Option<Millis>,
        reason: String,
    },
}

/// A task to create: "run `action` on event `input_event`".
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: TaskId,
    pub action: String,
    pub input_event: EventId,
    pub state: NewTaskState,
    /// Continuation state for the action (JSON).
    pub action_state: Option<String>,
    /// The attempt its first execution is (1, or more when an earlier attempt already
    /// happened outside the task, such as an eager execution that failed).
    pub attempt: u32,
}

/// Start a run: the run, its trigger event and the first tasks.
#[derive(Debug, Clone)]
pub struct StartRun {
    pub run: NewRun,
    pub trigger: NewEvent,
    /// Events of steps executed inline right after the trigger.
    pub events: Vec<NewEvent>,
    pub tasks: Vec<NewTask>,
    /// The run's result, when an inline `exit` already produced it.
    pub run_output: Option<String>,
    /// Start the run only if this key was not used before (durable de-duplication of
    /// triggers, e.g. one run per email Message-ID or per schedule tick).
    pub once_key: Option<(String, String)>,
    /// For schedule triggers: the next firing time to store with the run.
    pub schedule_next: Option<ScheduleAdvance>,
    /// The run's event cap (`settings.max_events_per_run`).
    pub max_events: u64,
    pub now: Millis,
}

/// Moves a schedule to its next firing time in the same transaction that starts its run.
#[derive(Debug, Clone)]
pub struct ScheduleAdvance {
    pub playbook: String,
    pub action: String,
    /// The firing time this run is for; the transaction fails if the schedule moved on.
    pub fired_at: Millis,
    pub next_at: Millis,
}

/// The error that failed a task, as stored on the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskError {
    pub action: String,
    /// `transient`, `rate_limited` or `permanent`.
    pub class: String,
    pub message: String,
    pub attempt: u32,
}

/// How a claimed task ends this execution.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// Record the events and create the downstream tasks.
    Done {
        events: Vec<NewEvent>,
        tasks: Vec<NewTask>,
        /// The run's result, when the action is an `exit`.
        run_output: Option<String>,
    },
    /// Release the task and run it again at `run_at` (a transient failure).
    Retry {
        run_at: Millis,
        attempt: u32,
        reason: String,
    },
    /// Park the task until `run_at` or a signal, keeping `state` for its resumption.
    Park {
        run_at: Option<Millis>,
        state: String,
        reason: String,
        /// A child run to start; its end wakes this task.
        child: Option<Box<StartRun>>,
    },
    /// The task failed for good: the run fails and its other tasks are cancelled.
    Fail { error: TaskError },
}

/// A durable write to an action's state, checked optimistically.
#[derive(Debug, Clone)]
pub struct StateWrite {
    pub scope: String,
    pub key: String,
    pub expect: StateExpect,
    /// The new value (JSON), or `None` to delete.
    pub value: Option<String>,
    pub expires_at: Option<Millis>,
}

/// What a state write requires of the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateExpect {
    /// No entry, or an expired one.
    Absent,
    /// The entry at exactly this version.
    Version(i64),
    /// Anything.
    Any,
}

/// Fan-in bookkeeping for `implode`.
#[derive(Debug, Clone)]
pub enum GroupOp {
    /// Adds one item to a group, creating the group (and its flush task, parked until the
    /// deadline) on first use; when `expected` items are in, the flush task becomes due now.
    Add {
        key: String,
        index: i64,
        item_json: String,
        expected: Option<i64>,
        flush_task: NewTask,
    },
    /// Removes a group after its flush emitted it; fails with a conflict when the group holds
    /// a different number of items than the flush saw.
    Take { key: String, items_seen: i64 },
}

/// Ends one execution of a claimed task.
#[derive(Debug, Clone)]
pub struct Completion {
    pub task: TaskId,
    pub run: RunId,
    pub playbook: String,
    pub version: i64,
    /// The id of the action the task runs.
    pub action: String,
    /// The claim's fencing token; the completion is rejected if the task was taken over.
    pub claim: i64,
    pub resolution: Resolution,
    pub state_writes: Vec<StateWrite>,
    pub group_ops: Vec<GroupOp>,
    /// The run's event cap (`settings.max_events_per_run`).
    pub max_events: u64,
    pub now: Millis,
}

/// What a committed write changed that the engine reacts to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Runs that reached a terminal status, with their output.
    pub finished: Vec<FinishedRun>,
    /// Tasks became due for any worker (retries, resumed parents, full groups, ready tasks).
    pub tasks_due: bool,
    /// The earliest future time a parked task becomes due, if this write parked one.
    pub next_due: Option<Millis>,
}

/// A run that reached a terminal status.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedRun {
    pub id: RunId,
    pub status: RunStatus,
    pub output: Option<Value>,
    pub reason: Option<String>,
}

/// The result of a claim.
#[derive(Debug, Clone, Default)]
pub struct Claimed {
    pub tasks: Vec<ClaimedTask>,
    /// When the next parked or retrying task is due, if any.
    pub next_due: Option<Millis>,
}
