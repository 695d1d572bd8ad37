//! Executing pure downstream steps inline, so that they are recorded in the same write as the
//! step that led to them.
//!
//! After an action emits, the actions linked from its ports would normally become tasks: each
//! one inserted, claimed, executed and deleted in writes of its own. For actions without side
//! effects whose outcome is a plain emission (`set`, `condition`, `explode`, `exit`, …) that
//! work is pure overhead: executing them right away and recording their events with the
//! parent's completion gives the same durable result — every output recorded exactly once, in
//! one transaction — with one write instead of several. Only actions whose spec says `inline`
//! (quick computations without I/O) run this way, and only when their outcome is a plain
//! emission; actions with I/O, waits, durable state or concurrency limits stay separate tasks
//! (the frontier), as does everything beyond a per-write budget, so a loop or a large explode
//! still spreads over many writes.

use std::collections::VecDeque;
use std::sync::Arc;

use muster_model::{ContextNode, EventId, RunId, TaskId};
use muster_store::{NewEvent, NewTask, NewTaskState};
use serde_json::Value;

use crate::action::Outcome;
use crate::compiled::{CompiledAction, CompiledPlaybook};
use crate::context::TaskInfo;
use crate::engine::Inner;
use crate::execute::{Job, failure_state, retry_reason, run_action};
use crate::retry::retry_delay;

/// Most steps executed inline for one write.
const INLINE_BUDGET: usize = 64;

/// What follows an emission: events of inline steps, and the frontier of tasks to create.
#[derive(Default)]
pub(crate) struct Followers {
    pub events: Vec<NewEvent>,
    pub tasks: Vec<NewTask>,
    pub jobs: Vec<Job>,
    /// The run's result, when an inline `exit` produced it.
    pub run_output: Option<Value>,
}

/// An event just emitted by `action` on `port`, whose downstream steps are to be followed.
pub(crate) struct Emitted<'a> {
    pub action: &'a str,
    pub port: String,
    pub node: Arc<ContextNode>,
}

/// How much may run inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Quick computations only (`ActionSpec::inline`).
    Quick,
    /// Also actions with I/O but without side effects (an HTTP GET): for runs whose caller
    /// waits for the result anyway, so that a read-only playbook answers after one write.
    /// If the process dies before that write, nothing was acknowledged: the caller has no
    /// answer and sends again.
    NoSideEffects,
}

fn inlinable(playbook: &CompiledPlaybook, action: &CompiledAction, reach: Reach) -> bool {
    let eligible = match reach {
        Reach::Quick => action.implementation.spec().inline,
        Reach::NoSideEffects => action.implementation.spec().inline || !action.side_effects,
    };
    eligible && action.limit.is_none() && playbook.limit.is_none()
}

/// Whether an inline outcome can be recorded as is (anything else becomes a task).
fn plain(outcome: &Outcome) -> bool {
    outcome.wait.is_none() && outcome.state_writes.is_empty() && outcome.group_ops.is_empty()
}

/// Follows `emitted` through the playbook's links, executing what can run inline.
pub(crate) async fn follow(
    inner: &Arc<Inner>,
    playbook: &Arc<CompiledPlaybook>,
    run: RunId,
    emitted: Vec<Emitted<'_>>,
    reach: Reach,
    now: i64,
) -> Followers {
    let mut followers = Followers::default();
    let mut queue: VecDeque<(&CompiledAction, Arc<ContextNode>)> = VecDeque::new();
    for emission in &emitted {
        for target in playbook.targets(emission.action, &emission.port) {
            queue.push_back((target, emission.node.clone()));
        }
    }
    let mut budget = INLINE_BUDGET;
    while let Some((action, input)) = queue.pop_front() {
        let mut failed = None;
        if budget > 0 && inlinable(playbook, action, reach) {
            budget -= 1;
            let task = TaskInfo {
                id: TaskId::new(),
                run_id: run,
                attempt: 1,
                state: None,
            };
            let result = run_action(inner, playbook, action, &task, &input, now).await;
            if let Err(error) = &result
                && !action.implementation.spec().inline
            {
                // The eager attempt reached the far end: it counts. A retry waits its back-off
                // like any other; otherwise the task resolves this failure (error port or a
                // failed run) without sending the request again.
                if let Some(delay) = retry_delay(&action.retry, error, 2) {
                    followers.tasks.push(NewTask {
                        id: task.id,
                        action: action.id().to_string(),
                        input_event: input.event,
                        state: NewTaskState::Waiting {
                            run_at: Some(now + delay.as_millis() as i64),
                            reason: retry_reason(action, error, 2),
                        },
                        action_state: None,
                        attempt: 2,
                    });
                    continue;
                }
                failed = Some(failure_state(error));
            }
            if let Ok(outcome) = result
                && plain(&outcome)
            {
                for emission in outcome.emits {
                    let event = EventId::new();
                    followers.events.push(NewEvent {
                        id: event,
                        parent: Some(input.event),
                        action: action.id().to_string(),
                        port: emission.port.clone(),
                        output_json: emission.output.to_string(),
                        task: Some(task.id),
                    });
                    let node = ContextNode::new(
                        event,
                        action.id(),
                        Arc::new(emission.output),
                        Some(input.clone()),
                    );
                    for target in playbook.targets(action.id(), &emission.port) {
                        queue.push_back((target, node.clone()));
                    }
                }
                if outcome.run_output.is_some() {
                    followers.run_output = outcome.run_output;
                }
                continue;
            }
            // Waits, state changes and failures of quick steps take the ordinary path as a
            // task of their own, which executes the action again.
        }
        let (task, job) = inner.new_task(playbook, run, action, &input, failed, now);
        followers.tasks.push(task);
        followers.jobs.extend(job);
    }
    followers
}
