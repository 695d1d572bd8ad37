//! Executing one task: run the action, turn its outcome into one completion (with the pure
//! steps that follow it, see `follow`), hand the downstream tasks this process claimed to new
//! jobs, and react to the commit.
//!
//! Downstream jobs start executing before the write that created them is committed, so their
//! work overlaps that commit. They submit their own completion only after it (the gate), so a
//! task whose creation failed records nothing and starts nothing. Actions with side effects do
//! not even start before the gate: the task id they expose as an idempotency key is durable
//! before any call leaves the process.

use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use muster_model::{ContextNode, EventId, HumanDuration, TaskId};
use muster_store::{
    CommitTicket, Completion, Effects, NewEvent, Resolution, StoreError, TaskError, now_millis,
};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use crate::action::{ActionError, Emission, Outcome, Wait};
use crate::compiled::{CompiledAction, CompiledPlaybook};
use crate::context::{ActionContext, TaskInfo};
use crate::credentials::Redactor;
use crate::engine::{Inner, RunStart};
use crate::follow::{Emitted, Followers, Reach, follow};
use crate::retry::retry_delay;
use muster_model::link::ERROR_PORT;

/// Resolves when the write that created a task committed (`Ok`) or failed.
pub(crate) type Gate = Shared<BoxFuture<'static, Result<Effects, StoreError>>>;

/// Makes a commit ticket awaitable by several parties.
pub(crate) fn share(ticket: CommitTicket<Effects>) -> Gate {
    ticket.boxed().shared()
}

/// A task this process holds and will execute. While it exists, heartbeats keep its lease.
pub(crate) struct Job {
    pub task: TaskInfo,
    pub claim: i64,
    pub playbook: Arc<CompiledPlaybook>,
    pub action: Arc<str>,
    pub input: Arc<ContextNode>,
    pub gate: Option<Gate>,
    _held: Held,
    _permit: OwnedSemaphorePermit,
}

impl Job {
    pub fn new(
        inner: &Arc<Inner>,
        task: TaskInfo,
        claim: i64,
        playbook: Arc<CompiledPlaybook>,
        action: Arc<str>,
        input: Arc<ContextNode>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let held = Held::new(inner.held.clone(), task.id);
        Self {
            task,
            claim,
            playbook,
            action,
            input,
            gate: None,
            _held: held,
            _permit: permit,
        }
    }
}

/// The tasks this process holds in memory; only their leases are extended.
#[derive(Default)]
pub(crate) struct HeldTasks {
    ids: std::sync::Mutex<std::collections::HashSet<TaskId>>,
}

impl HeldTasks {
    pub fn snapshot(&self) -> Vec<TaskId> {
        self.ids
            .lock()
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }
}

struct Held {
    tasks: Arc<HeldTasks>,
    id: TaskId,
}

impl Held {
    fn new(tasks: Arc<HeldTasks>, id: TaskId) -> Self {
        if let Ok(mut ids) = tasks.ids.lock() {
            ids.insert(id);
        }
        Self { tasks, id }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.tasks.ids.lock() {
            ids.remove(&self.id);
        }
    }
}

/// How often a completion that lost an optimistic check is re-executed before giving up.
const MAX_CONFLICT_RETRIES: u32 = 16;

pub(crate) async fn run_job(inner: Arc<Inner>, job: Job) {
    let mut conflicts = 0;
    loop {
        match execute_once(&inner, &job).await {
            Err(StoreError::Conflict(reason)) if conflicts < MAX_CONFLICT_RETRIES => {
                conflicts += 1;
                tracing::debug!(task = %job.task.id, %reason, "re-executing after a conflict");
            }
            Err(StoreError::LostClaim { .. }) => {
                tracing::debug!(task = %job.task.id, "task no longer held; result discarded");
                return;
            }
            Err(err) => {
                // Dropping the job stops its heartbeats: its lease expires and it runs again.
                tracing::warn!(task = %job.task.id, error = %err, "recording a task result failed; the task will be retried when its lease expires");
                return;
            }
            Ok(()) => return,
        }
    }
}

async fn execute_once(inner: &Arc<Inner>, job: &Job) -> Result<(), StoreError> {
    let playbook = &job.playbook;
    let Some(action) = playbook.action(&job.action) else {
        return Err(StoreError::Invalid(format!(
            "playbook {} version {} has no action `{}`",
            playbook.name(),
            playbook.version,
            job.action
        )));
    };
    if action.side_effects
        && let Some(gate) = &job.gate
    {
        gate.clone().await?;
    }
    let _playbook_slot = match &playbook.limit {
        Some(limit) => Some(limit.acquire().await),
        None => None,
    };
    let _action_slot = match &action.limit {
        Some(limit) => Some(limit.acquire().await),
        None => None,
    };
    let now = now_millis();
    let result = match replayed_failure(job.task.state.as_ref()) {
        Some(error) => Err(error),
        None => run_action(inner, playbook, action, &job.task, &job.input, now).await,
    };
    let mut resolved = resolve(inner, job, action, result).await;
    // Submit only once the write that created this task is durable: a task whose creation
    // failed must not record anything or start further work. (It executed speculatively
    // meanwhile, so the wait costs no time unless that write is slow.)
    if let Some(gate) = &job.gate {
        gate.clone().await?;
    }
    let ticket = share(inner.store.complete(resolved.completion));
    inner.dispatch(std::mem::take(&mut resolved.jobs), Some(ticket.clone()));
    let effects = ticket.await?;
    inner.handle_effects(&effects);
    inner.announce_output(job.task.run_id, resolved.run_output);
    Ok(())
}

/// Executes one action once: bounded by its timeout, with a panic turned into a permanent
/// failure instead of taking the worker down (and being retried forever after its lease
/// expires), and measured.
pub(crate) async fn run_action(
    inner: &Arc<Inner>,
    playbook: &CompiledPlaybook,
    action: &CompiledAction,
    task: &TaskInfo,
    input: &Arc<ContextNode>,
    now: i64,
) -> Result<Outcome, ActionError> {
    let resources = if action.uses_resources {
        Some(load_resources(&*inner.store).await?)
    } else {
        None
    };
    let ctx = ActionContext::new(
        playbook,
        action,
        task,
        input,
        &*inner.store,
        &inner.services,
        &inner.credentials,
        resources,
        now,
    );
    let started = Instant::now();
    let execution =
        std::panic::AssertUnwindSafe(action.implementation.execute(&ctx)).catch_unwind();
    let result = match tokio::time::timeout(action.timeout, execution).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(ActionError::permanent(format!(
            "the action failed unexpectedly: {}",
            panic_message(&panic)
        ))),
        Err(_) => Err(ActionError::transient(format!(
            "timed out after {} (timeout)",
            HumanDuration(action.timeout)
        ))),
    };
    let kind = action.kind().to_string();
    metrics::histogram!("muster_action_duration_seconds", "type" => kind.clone())
        .record(started.elapsed().as_secs_f64());
    let outcome_label = match &result {
        Ok(outcome) if outcome.wait.is_some() => "wait",
        Ok(_) => "ok",
        Err(_) => "error",
    };
    metrics::counter!("muster_action_executions_total", "type" => kind, "outcome" => outcome_label)
        .increment(1);
    redact(inner.credentials.redactor(), result)
}

/// The task state that hands a failure which already happened (an eager attempt) to the
/// task, which then resolves it instead of executing the action.
const EAGER_FAILURE: &str = "eager_failure";

pub(crate) fn failure_state(error: &ActionError) -> Value {
    json!({ EAGER_FAILURE: {
        "class": error.class.as_str(),
        "message": error.message,
        "details": error.details,
    }})
}

fn replayed_failure(state: Option<&Value>) -> Option<ActionError> {
    let failure = state?.get(EAGER_FAILURE)?;
    let message = failure.get("message")?.as_str()?.to_string();
    let mut error = match failure.get("class").and_then(Value::as_str) {
        Some("transient") => ActionError::transient(message),
        Some("rate_limited") => ActionError::rate_limited(message, None),
        _ => ActionError::permanent(message),
    };
    if let Some(details) = failure.get("details").filter(|d| !d.is_null()) {
        error = error.with_details(details.clone());
    }
    Some(error)
}

/// Why a task waits before attempt `next`.
pub(crate) fn retry_reason(action: &CompiledAction, error: &ActionError, next: u32) -> String {
    format!(
        "retrying `{}` after: {}, attempt {next}/{}",
        action.id(),
        error.message,
        action.retry.attempts
    )
}

/// Hides secrets and credential references in what an action produced, before anything is
/// recorded, logged or handed to the next step.
fn redact(
    redactor: &Redactor,
    result: Result<Outcome, ActionError>,
) -> Result<Outcome, ActionError> {
    match result {
        Ok(mut outcome) => {
            for emission in &mut outcome.emits {
                redactor.redact_json(&mut emission.output);
            }
            if let Some(output) = &mut outcome.run_output {
                redactor.redact_json(output);
            }
            match &mut outcome.wait {
                Some(Wait::Until { reason, .. } | Wait::Signal { reason, .. }) => {
                    *reason = redactor.redact(reason);
                }
                Some(Wait::Child { inputs, .. }) => redactor.redact_json(inputs),
                None => {}
            }
            Ok(outcome)
        }
        Err(mut error) => {
            if redactor.needs(&error.message) {
                error.message = redactor.redact(&error.message);
            }
            if let Some(details) = &mut error.details {
                redactor.redact_json(details);
            }
            Err(error)
        }
    }
}

/// Every resource, as the `resources` variable.
async fn load_resources(store: &dyn muster_store::Store) -> Result<Value, ActionError> {
    let records = store
        .resources()
        .await
        .map_err(|e| ActionError::transient(format!("reading resources: {e}")))?;
    Ok(Value::Object(
        records.into_iter().map(|r| (r.name, r.value)).collect(),
    ))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// A completion and what follows from it here.
struct Resolved {
    completion: Completion,
    jobs: Vec<Job>,
    run_output: Option<Value>,
}

async fn resolve(
    inner: &Arc<Inner>,
    job: &Job,
    action: &CompiledAction,
    result: Result<Outcome, ActionError>,
) -> Resolved {
    let now = now_millis();
    let mut jobs = Vec::new();
    let mut run_output = None;
    let (resolution, state_writes, group_ops) = match result {
        Ok(Outcome {
            wait: Some(wait),
            state_writes,
            group_ops,
            ..
        }) => match park(inner, job, wait).await {
            Ok((resolution, child_jobs)) => {
                jobs = child_jobs;
                (resolution, state_writes, group_ops)
            }
            Err(error) => (
                failure(inner, job, action, error, now, &mut jobs).await,
                vec![],
                vec![],
            ),
        },
        Ok(outcome) => {
            let (mut events, followers) = record(inner, job, action, outcome.emits, now).await;
            events.extend(followers.events);
            jobs = followers.jobs;
            run_output = followers.run_output.or(outcome.run_output);
            let resolution = Resolution::Done {
                events,
                tasks: followers.tasks,
                run_output: run_output.as_ref().map(Value::to_string),
            };
            (resolution, outcome.state_writes, outcome.group_ops)
        }
        Err(error) => (
            failure(inner, job, action, error, now, &mut jobs).await,
            vec![],
            vec![],
        ),
    };
    Resolved {
        completion: Completion {
            task: job.task.id,
            run: job.task.run_id,
            playbook: job.playbook.name().to_string(),
            version: job.playbook.version,
            action: action.id().to_string(),
            claim: job.claim,
            resolution,
            state_writes,
            group_ops,
            max_events: job.playbook.playbook.settings.max_events_per_run(),
            now,
        },
        jobs,
        run_output,
    }
}

/// Turns an action's emissions into events and follows them through the pure steps after
/// them (see `follow`).
async fn record(
    inner: &Arc<Inner>,
    job: &Job,
    action: &CompiledAction,
    emissions: Vec<Emission>,
    now: i64,
) -> (Vec<NewEvent>, Followers) {
    let mut events = Vec::with_capacity(emissions.len());
    let mut emitted = Vec::with_capacity(emissions.len());
    for emission in emissions {
        let (event, node) = new_event(job, &emission.port, emission.output);
        events.push(event);
        emitted.push(Emitted {
            action: action.id(),
            port: emission.port,
            node,
        });
    }
    let followers = follow(
        inner,
        &job.playbook,
        job.task.run_id,
        emitted,
        Reach::Quick,
        now,
    )
    .await;
    (events, followers)
}

fn new_event(job: &Job, port: &str, output: Value) -> (NewEvent, Arc<ContextNode>) {
    let id = EventId::new();
    let event = NewEvent {
        id,
        parent: Some(job.input.event),
        action: job.action.to_string(),
        port: port.to_string(),
        output_json: output.to_string(),
        task: None,
    };
    let node = ContextNode::new(
        id,
        job.action.clone(),
        Arc::new(output),
        Some(job.input.clone()),
    );
    (event, node)
}

/// Retries, delivers on the `error` port, or fails the run.
async fn failure(
    inner: &Arc<Inner>,
    job: &Job,
    action: &CompiledAction,
    error: ActionError,
    now: i64,
    jobs: &mut Vec<Job>,
) -> Resolution {
    let next = job.task.attempt + 1;
    if let Some(delay) = retry_delay(&action.retry, &error, next) {
        return Resolution::Retry {
            run_at: now + delay.as_millis() as i64,
            attempt: next,
            reason: retry_reason(action, &error, next),
        };
    }
    if action.handles_errors {
        let mut output = json!({
            "message": error.message,
            "class": error.class.as_str(),
            "attempt": job.task.attempt,
        });
        if let Some(details) = &error.details {
            output["details"] = details.clone();
        }
        let emission = Emission {
            port: ERROR_PORT.to_string(),
            output,
        };
        let (mut events, followers) = record(inner, job, action, vec![emission], now).await;
        jobs.extend(followers.jobs);
        events.extend(followers.events);
        return Resolution::Done {
            events,
            tasks: followers.tasks,
            run_output: followers.run_output.as_ref().map(Value::to_string),
        };
    }
    Resolution::Fail {
        error: TaskError {
            action: action.id().to_string(),
            class: error.class.as_str().to_string(),
            message: error.message,
            attempt: job.task.attempt,
        },
    }
}

/// Turns a wait into a parking resolution (starting a child run when asked).
async fn park(
    inner: &Arc<Inner>,
    job: &Job,
    wait: Wait,
) -> Result<(Resolution, Vec<Job>), ActionError> {
    Ok(match wait {
        Wait::Until { at, state, reason } => (
            Resolution::Park {
                run_at: Some(at),
                state: state.to_string(),
                reason,
                child: None,
            },
            Vec::new(),
        ),
        Wait::Signal { state, reason } => (
            Resolution::Park {
                run_at: None,
                state: state.to_string(),
                reason,
                child: None,
            },
            Vec::new(),
        ),
        Wait::Child {
            playbook,
            trigger,
            inputs,
        } => {
            let engine = crate::engine::Engine {
                inner: inner.clone(),
            };
            let current = inner.playbooks.current(&playbook).ok_or_else(|| {
                ActionError::permanent(format!("playbook `{playbook}` not found"))
            })?;
            if !current.enabled {
                return Err(ActionError::permanent(format!(
                    "playbook `{playbook}` is disabled"
                )));
            }
            let child = current.compiled;
            let trigger = match &trigger {
                Some(id) => child.action(id).filter(|a| a.implementation.spec().trigger),
                None => child.default_trigger(),
            }
            .ok_or_else(|| {
                ActionError::permanent(format!("playbook `{playbook}` has no such trigger"))
            })?;
            let inputs =
                crate::inputs::apply_inputs(&child.playbook, inputs).map_err(|problem| {
                    ActionError::permanent(format!("calling `{playbook}`: {problem}"))
                })?;
            let (start, jobs, _) = engine
                .prepare_run(
                    &child,
                    RunStart {
                        trigger: trigger.id(),
                        output: inputs,
                        parent: Some((job.task.run_id, job.task.id)),
                        ..RunStart::default()
                    },
                )
                .await;
            let reason = format!("waiting for playbook `{playbook}` (run {})", start.run.id);
            (
                Resolution::Park {
                    run_at: None,
                    state: "{}".into(),
                    reason,
                    child: Some(Box::new(start)),
                },
                jobs,
            )
        }
    })
}
