//! The `Action` trait: what every action type implements, and what it returns.
//!
//! An action receives one input event (through its [`ActionContext`]) and returns an
//! [`Outcome`]: events to emit on ports, a wait, durable state changes. It never writes to
//! the store itself: the engine turns the outcome into one transaction.

use std::borrow::Cow;
use std::time::Duration;

use async_trait::async_trait;
use muster_model::{ActionDef, OptionProblem};
use muster_store::{GroupOp, Millis, StateWrite};
use serde_json::Value;

use crate::context::ActionContext;
use crate::polling::PollContext;

/// The self-description of an action type, shown by `muster actions list|describe`.
///
/// Texts are `Cow`s: built-in actions describe themselves with literals, integrations with
/// text read from their files.
#[derive(Debug, Clone)]
pub struct ActionSpec {
    /// The type name used in playbooks (`http_request`).
    pub kind: Cow<'static, str>,
    /// One line: what it does.
    pub summary: Cow<'static, str>,
    /// Longer explanation (Markdown): behaviour, output shape, ports.
    pub description: Cow<'static, str>,
    /// Whether the type starts runs.
    pub trigger: bool,
    /// Output ports besides `out` (and the implicit `error`).
    pub ports: &'static [&'static str],
    /// JSON Schema of the options object.
    pub options: Value,
    /// A YAML snippet showing typical use.
    pub example: Cow<'static, str>,
    /// Whether executing it can change something outside Muster (an HTTP call, an email).
    /// Such actions only run once the task that asks for them is durable, so that the task
    /// id they expose as an idempotency key is stable. [`Action::side_effects`] may refine it
    /// per configured action (an HTTP GET has none).
    pub side_effects: bool,
    /// Whether it is a quick computation without I/O, which the engine may execute inline
    /// right after the step before it and record in the same write.
    pub inline: bool,
}

/// How an action failure should be handled.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorClass {
    /// Might work if tried again (timeouts, connection errors, 5xx).
    Transient,
    /// The far end asked us to slow down; try again after the given time.
    RateLimited { retry_after: Option<Duration> },
    /// Will not work however often it is tried (bad options, 4xx, a failing expression).
    Permanent,
}

impl ErrorClass {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited { .. } => "rate_limited",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// An action's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    pub class: ErrorClass,
    pub message: String,
    /// Structured detail delivered on the `error` port (e.g. the HTTP response).
    pub details: Option<Value>,
}

impl ActionError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Transient,
            message: message.into(),
            details: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Permanent,
            message: message.into(),
            details: None,
        }
    }

    pub fn rate_limited(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self {
            class: ErrorClass::RateLimited { retry_after },
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn is_retryable(&self) -> bool {
        !matches!(self.class, ErrorClass::Permanent)
    }
}

/// One output event.
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    pub port: String,
    pub output: Value,
}

/// What an action waits for instead of emitting now.
#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// Resume at `at`; `state` is handed back to the action then.
    Until {
        at: Millis,
        state: Value,
        reason: String,
    },
    /// Resume when something else wakes the task (a group filling up, a signal).
    Signal { state: Value, reason: String },
    /// Start a run of another playbook and resume with its result under `state.child`.
    Child {
        playbook: String,
        /// The child's trigger action; `None` picks its first `manual` trigger, else its
        /// first trigger.
        trigger: Option<String>,
        inputs: Value,
    },
}

/// What one execution of an action produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub emits: Vec<Emission>,
    pub wait: Option<Wait>,
    pub state_writes: Vec<StateWrite>,
    pub group_ops: Vec<GroupOp>,
    /// The run's result (set by `exit`).
    pub run_output: Option<Value>,
}

impl Outcome {
    /// Emits `output` on `out`.
    pub fn emit(output: Value) -> Self {
        Self::emit_on("out", output)
    }

    /// Emits `output` on `port`.
    pub fn emit_on(port: impl Into<String>, output: Value) -> Self {
        Self {
            emits: vec![Emission {
                port: port.into(),
                output,
            }],
            ..Self::default()
        }
    }

    /// Emits nothing.
    pub fn nothing() -> Self {
        Self::default()
    }

    /// Waits as described.
    pub fn wait(wait: Wait) -> Self {
        Self {
            wait: Some(wait),
            ..Self::default()
        }
    }
}

/// An action type.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    fn spec(&self) -> &ActionSpec;

    /// The output ports of one configured action; `out` plus the spec's ports by default.
    fn ports(&self, def: &ActionDef) -> Vec<String> {
        let _ = def;
        std::iter::once("out")
            .chain(self.spec().ports.iter().copied())
            .map(str::to_string)
            .collect()
    }

    /// Whether this configured action has side effects (default: the spec's flag).
    fn side_effects(&self, def: &ActionDef) -> bool {
        let _ = def;
        self.spec().side_effects
    }

    /// Problems with the options beyond what the schema checks (called at load time).
    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let _ = def;
        Vec::new()
    }

    /// Runs the action on one input.
    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError>;

    /// For triggers: the trigger event's output for a payload given by hand (`muster run
    /// --event`, the manual trigger API). Webhooks wrap it as a request body, for example.
    fn trigger_output(&self, def: &ActionDef, payload: Value) -> Value {
        let _ = def;
        payload
    }

    /// For triggers listening on `/hooks/{path}`: the path.
    fn webhook_path(&self, def: &ActionDef) -> Option<String> {
        let _ = def;
        None
    }

    /// For scheduled triggers: the first firing time strictly after `after`.
    fn next_fire(&self, def: &ActionDef, after: Millis) -> Result<Option<Millis>, String> {
        let _ = (def, after);
        Ok(None)
    }

    /// For polling triggers: the time between two polls of this configured trigger. `Some`
    /// makes the engine run a poller for it while its playbook is current and enabled.
    fn poll_interval(&self, def: &ActionDef) -> Option<Duration> {
        let _ = def;
        None
    }

    /// For polling triggers: looks once for new items and starts a run for each through
    /// [`PollContext::start_run`]. An error is logged, shown in the trigger's poll status,
    /// and makes the next poll wait longer.
    async fn poll(&self, ctx: &PollContext<'_>) -> Result<(), ActionError> {
        let _ = ctx;
        Ok(())
    }
}
