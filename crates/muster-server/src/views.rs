//! The JSON shapes the API answers with, built from store records and compiled playbooks.
//! Times are RFC 3339 in UTC; identifiers are UUID strings.

use chrono::{DateTime, Utc};
use muster_engine::{ActionSpec, CompiledPlaybook, Engine, PollStatus};
use muster_store::{EventRecord, Millis, PlaybookRecord, RunRecord, RunStatus, TaskRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Milliseconds since the epoch as a UTC time (the epoch itself when out of range).
pub fn time(millis: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// One trigger of a playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The path below `/hooks/` for webhook triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// For polling triggers (`email_inbox`) of an enabled playbook: how polling goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling: Option<PollView>,
}

/// How a polling trigger is doing in this process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PollView {
    /// Polls finished since the poller started (with this version of the playbook).
    pub polls: u64,
    /// Runs it started.
    pub runs_started: u64,
    /// Failed polls in a row; each makes the next poll wait twice as long (up to 15 minutes).
    pub failures: u32,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Why the last poll failed; absent after a success.
    pub last_error: Option<String>,
    pub next_poll_at: Option<DateTime<Utc>>,
}

impl From<PollStatus> for PollView {
    fn from(status: PollStatus) -> Self {
        Self {
            polls: status.polls,
            runs_started: status.runs_started,
            failures: status.failures,
            last_poll_at: status.last_poll_at.map(time),
            last_success_at: status.last_success_at.map(time),
            last_error: status.last_error,
            next_poll_at: status.next_poll_at.map(time),
        }
    }
}

/// A playbook's current version, without its definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaybookSummary {
    pub name: String,
    pub version: i64,
    pub enabled: bool,
    pub team: Option<String>,
    pub description: Option<String>,
    pub triggers: Vec<TriggerView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PlaybookSummary {
    /// `compiled` is the record's version when it still loads; its triggers are listed, with
    /// the engine's poll status for polling triggers.
    pub fn new(
        record: &PlaybookRecord,
        compiled: Option<&CompiledPlaybook>,
        engine: &Engine,
    ) -> Self {
        let triggers = compiled
            .map(|compiled| {
                compiled
                    .triggers()
                    .map(|t| TriggerView {
                        id: t.id().to_string(),
                        kind: t.kind().to_string(),
                        webhook_path: t.implementation.webhook_path(&t.def),
                        polling: engine.poll_status(&record.name, t.id()).map(PollView::from),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: record.name.clone(),
            version: record.version,
            enabled: record.enabled,
            team: record.team.clone(),
            description: record.description.clone(),
            triggers,
            created_at: time(record.created_at),
            updated_at: time(record.updated_at),
        }
    }
}

/// A playbook with its definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaybookDetail {
    #[serde(flatten)]
    pub summary: PlaybookSummary,
    /// The playbook document as JSON (same content as the YAML export).
    pub definition: Value,
}

/// A page of playbooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaybookList {
    pub items: Vec<PlaybookSummary>,
    pub total: u64,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Some task is ready or executing.
    Running,
    /// Every pending task is parked (delay, implode, child run, retry back-off…).
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

impl From<RunStatus> for RunState {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Running => RunState::Running,
            RunStatus::Waiting => RunState::Waiting,
            RunStatus::Succeeded => RunState::Succeeded,
            RunStatus::Failed => RunState::Failed,
            RunStatus::Cancelled => RunState::Cancelled,
        }
    }
}

/// A run as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    pub id: Uuid,
    pub playbook: String,
    /// The playbook version the run executes.
    pub version: i64,
    pub status: RunState,
    /// Why the run is not finished, or why it failed.
    pub reason: Option<String>,
    /// The error that failed the run.
    pub error: Option<Value>,
    /// The trigger action the run started from.
    pub trigger: String,
    pub parent_run: Option<Uuid>,
    /// The output of the run's `exit` action.
    pub output: Option<Value>,
    /// Tasks not yet finished.
    pub pending: i64,
    /// Of those, tasks parked until a time or a signal.
    pub waiting: i64,
    /// Events recorded so far.
    pub events: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<RunRecord> for RunView {
    fn from(run: RunRecord) -> Self {
        Self {
            id: run.id.0,
            playbook: run.playbook,
            version: run.version,
            status: run.status.into(),
            reason: run.reason,
            error: run.error,
            trigger: run.trigger_action,
            parent_run: run.parent_run.map(|r| r.0),
            output: run.output,
            pending: run.pending,
            waiting: run.waiting,
            events: run.events,
            created_at: time(run.created_at),
            updated_at: time(run.updated_at),
            finished_at: run.finished_at.map(time),
        }
    }
}

/// A page of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
    /// Runs matching the filter, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// A run with its events and pending tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunDetail {
    pub id: Uuid,
    pub playbook: String,
    pub version: i64,
    pub status: RunState,
    pub reason: Option<String>,
    pub error: Option<Value>,
    pub trigger: String,
    pub parent_run: Option<Uuid>,
    pub output: Option<Value>,
    pub pending: i64,
    pub waiting: i64,
    /// Every event of the run, oldest first.
    pub events: Vec<EventView>,
    /// Tasks not yet finished.
    pub tasks: Vec<TaskView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunDetail {
    pub fn new(run: RunRecord, events: Vec<EventRecord>, tasks: Vec<TaskRecord>) -> Self {
        let view = RunView::from(run);
        Self {
            id: view.id,
            playbook: view.playbook,
            version: view.version,
            status: view.status,
            reason: view.reason,
            error: view.error,
            trigger: view.trigger,
            parent_run: view.parent_run,
            output: view.output,
            pending: view.pending,
            waiting: view.waiting,
            events: events.into_iter().map(EventView::from).collect(),
            tasks: tasks.into_iter().map(TaskView::from).collect(),
            created_at: view.created_at,
            updated_at: view.updated_at,
            finished_at: view.finished_at,
        }
    }
}

/// One event: an action's output for one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub run_id: Uuid,
    /// The input event this one was computed from (`null` for the trigger event).
    pub parent: Option<Uuid>,
    pub action: String,
    pub port: String,
    pub output: Value,
    /// The task that produced the event (`null` for the trigger event).
    pub task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<EventRecord> for EventView {
    fn from(event: EventRecord) -> Self {
        Self {
            id: event.id.0,
            run_id: event.run_id.0,
            parent: event.parent.map(|p| p.0),
            action: event.action,
            port: event.port,
            output: event.output,
            task_id: event.task_id.map(|t| t.0),
            created_at: time(event.created_at),
        }
    }
}

/// A task not yet finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    pub id: Uuid,
    pub action: String,
    pub input_event: Uuid,
    /// `ready`, `claimed` or `waiting`.
    pub status: String,
    /// When the task becomes due (for ready and parked tasks).
    pub run_at: Option<DateTime<Utc>>,
    pub attempt: u32,
    /// Why it waits.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<TaskRecord> for TaskView {
    fn from(task: TaskRecord) -> Self {
        Self {
            id: task.id.0,
            action: task.action,
            input_event: task.input_event.0,
            status: task.status,
            run_at: task.run_at.map(time),
            attempt: task.attempt,
            reason: task.reason,
            created_at: time(task.created_at),
        }
    }
}

/// The answer to a request that started a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunStarted {
    pub run_id: Uuid,
}

/// An action type's self-description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionSpecView {
    #[serde(rename = "type")]
    pub kind: String,
    pub summary: String,
    /// Markdown.
    pub description: String,
    /// Whether the type starts runs.
    pub trigger: bool,
    /// Output ports besides `out` (and the implicit `error`).
    pub ports: Vec<String>,
    /// JSON Schema of the options object.
    pub options: Value,
    /// A YAML snippet showing typical use.
    pub example: String,
    /// Whether executing it can change something outside Muster.
    pub side_effects: bool,
}

impl From<&ActionSpec> for ActionSpecView {
    fn from(spec: &ActionSpec) -> Self {
        Self {
            kind: spec.kind.to_string(),
            summary: spec.summary.to_string(),
            description: spec.description.to_string(),
            trigger: spec.trigger,
            ports: spec.ports.iter().map(|p| p.to_string()).collect(),
            options: spec.options.clone(),
            example: spec.example.to_string(),
            side_effects: spec.side_effects,
        }
    }
}

/// The list of action types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionList {
    pub items: Vec<ActionSpecView>,
    pub total: u64,
}
