//! What an action sees while it executes: its options (rendered on demand), its input, the
//! task, durable state, and the engine's shared services.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use muster_model::expr::{Scope, credentials_variable};
use muster_model::{ContextNode, EventId, RunId, TaskId};
use muster_store::{GroupOp, Millis, NewTask, NewTaskState, StateEntry, Store};
use serde_json::{Map, Value};

use crate::action::ActionError;
use crate::compiled::{CompiledAction, CompiledPlaybook};
use crate::credentials::{Credentials, Unsealed};

/// The task being executed.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    pub id: TaskId,
    pub run_id: RunId,
    /// 1 for the first execution; raised by retries.
    pub attempt: u32,
    /// The state the action parked with, handed back on resumption.
    pub state: Option<Value>,
}

/// Shared, typed services that actions may use (an HTTP client, a mail transport, …),
/// registered by the process that builds the engine.
#[derive(Clone, Default)]
pub struct Services {
    entries: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Services {
    pub fn insert<T: Any + Send + Sync>(&mut self, service: T) -> &mut Self {
        self.entries.insert(TypeId::of::<T>(), Arc::new(service));
        self
    }

    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.entries
            .get(&TypeId::of::<T>())
            .and_then(|s| s.downcast_ref::<T>())
    }
}

/// Everything an action may use during one execution.
pub struct ActionContext<'a> {
    pub playbook: &'a CompiledPlaybook,
    pub action: &'a CompiledAction,
    pub task: &'a TaskInfo,
    /// The input event, linked to its ancestors.
    pub input: &'a Arc<ContextNode>,
    pub store: &'a dyn Store,
    pub services: &'a Services,
    pub credentials: &'a Credentials,
    pub now: Millis,
    task_var: minijinja::Value,
    run_var: minijinja::Value,
    /// `resources`, loaded for actions whose options mention them.
    resources_var: Option<minijinja::Value>,
}

impl<'a> ActionContext<'a> {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, which has each part at hand"
    )]
    pub(crate) fn new(
        playbook: &'a CompiledPlaybook,
        action: &'a CompiledAction,
        task: &'a TaskInfo,
        input: &'a Arc<ContextNode>,
        store: &'a dyn Store,
        services: &'a Services,
        credentials: &'a Credentials,
        resources: Option<Value>,
        now: Millis,
    ) -> Self {
        let task_var = to_value(serde_json::json!({
            "id": task.id.to_string(),
            "attempt": task.attempt,
            "action": action.id(),
        }));
        let run_var = to_value(serde_json::json!({
            "id": task.run_id.to_string(),
            "playbook": playbook.name(),
            "version": playbook.version,
        }));
        Self {
            playbook,
            action,
            task,
            input,
            store,
            services,
            credentials,
            now,
            task_var,
            run_var,
            resources_var: resources.map(to_value),
        }
    }

    /// The scope expressions are rendered in: the event chain plus `task`, `run`,
    /// `credentials` (references, see [`crate::credentials`]) and `resources`.
    pub fn scope(&self) -> Scope<'_> {
        let scope = Scope::new(Some(self.input))
            .with("task", self.task_var.clone())
            .with("run", self.run_var.clone())
            .with("credentials", credentials_variable());
        match &self.resources_var {
            Some(resources) => scope.with("resources", resources.clone()),
            None => scope,
        }
    }

    /// Replaces the credential references in rendered option text with their values, after
    /// checking that each credential may be sent to `host`. For code that sends something
    /// itself (SMTP, IMAP); HTTP requests go through the HTTP client, which does the same
    /// per hop.
    pub async fn reveal(&self, text: &str, host: &str) -> Result<String, ActionError> {
        Ok(self.credentials.reveal(text, host).await?)
    }

    /// Opens credential `name` for a request to `host`.
    pub async fn credential(&self, name: &str, host: &str) -> Result<Unsealed, ActionError> {
        let unsealed = self.credentials.unseal(name).await?;
        unsealed.check_host(host)?;
        Ok(unsealed)
    }

    /// Whether the action has this option.
    pub fn has_option(&self, name: &str) -> bool {
        self.action.option(name).is_some()
    }

    /// The option as written (unrendered), for options that are not expressions.
    pub fn raw_option(&self, name: &str) -> Option<&Value> {
        self.action.def.options.get(name)
    }

    /// Renders one option in the default scope; `None` when it is not set.
    pub fn option(&self, name: &str) -> Result<Option<Value>, ActionError> {
        self.option_in(name, &self.scope())
    }

    /// Renders one option in a given scope (e.g. with `item` added).
    pub fn option_in(&self, name: &str, scope: &Scope<'_>) -> Result<Option<Value>, ActionError> {
        match self.action.option(name) {
            None => Ok(None),
            Some(compiled) => compiled.render(scope).map(Some).map_err(|e| {
                ActionError::permanent(format!(
                    "option `{name}`{}: {} (in `{}`)",
                    nested(&e.path),
                    e.message,
                    e.expression
                ))
            }),
        }
    }

    /// Renders every option except `skip`.
    pub fn options_except(&self, skip: &[&str]) -> Result<Map<String, Value>, ActionError> {
        let scope = self.scope();
        let mut out = Map::new();
        for (name, _) in &self.action.options {
            if skip.contains(&name.as_str()) {
                continue;
            }
            if let Some(value) = self.option_in(name, &scope)? {
                out.insert(name.clone(), value);
            }
        }
        Ok(out)
    }

    /// Renders a required option, failing with a clear message when it is absent.
    pub fn required(&self, name: &str) -> Result<Value, ActionError> {
        self.option(name)?
            .ok_or_else(|| ActionError::permanent(format!("missing required option `{name}`")))
    }

    /// The input event's output.
    pub fn input_output(&self) -> &Value {
        &self.input.output
    }

    /// The input event's id.
    pub fn input_event(&self) -> EventId {
        self.input.event
    }

    /// The nearest event in the chain emitted by an action of type `kind`.
    pub fn nearest_of_kind(&self, kind: &str) -> Option<&ContextNode> {
        let mut node = Some(&**self.input);
        while let Some(n) = node {
            if self
                .playbook
                .action(&n.action)
                .is_some_and(|a| a.kind() == kind)
            {
                return Some(n);
            }
            node = n.parent.as_deref();
        }
        None
    }

    /// The root (trigger) event of the chain.
    pub fn trigger_event(&self) -> EventId {
        let mut node = &**self.input;
        while let Some(parent) = node.parent.as_deref() {
            node = parent;
        }
        node.event
    }

    /// Reads durable action state.
    pub async fn state(&self, scope: &str, key: &str) -> Result<Option<StateEntry>, ActionError> {
        self.store
            .state(scope, key, self.now)
            .await
            .map_err(|e| ActionError::transient(format!("reading state: {e}")))
    }

    /// A state scope private to this playbook's action (`playbook/action`).
    pub fn state_scope(&self) -> String {
        format!("{}/{}", self.playbook.name(), self.action.id())
    }

    /// Builds the group operation that adds an item to an implode group; the group's flush
    /// task (this same action, on `entry.flush_input`) is parked until `entry.deadline`.
    pub fn group_add(&self, entry: GroupEntry<'_>) -> GroupOp {
        GroupOp::Add {
            key: entry.key,
            index: entry.index,
            item_json: entry.item.to_string(),
            expected: entry.expected,
            flush_task: NewTask {
                id: TaskId::new(),
                action: self.action.id().to_string(),
                input_event: entry.flush_input,
                state: NewTaskState::Waiting {
                    run_at: Some(entry.deadline),
                    reason: format!("waiting for `{}` to collect its group", self.action.id()),
                },
                action_state: Some(entry.flush_state.to_string()),
                attempt: 1,
            },
        }
    }
}

/// One item for a fan-in group (see [`ActionContext::group_add`]).
pub struct GroupEntry<'v> {
    /// The group's key, unique per run and action.
    pub key: String,
    /// The item's position; the same index twice is stored once.
    pub index: i64,
    pub item: &'v Value,
    /// How many items complete the group, when known.
    pub expected: Option<i64>,
    /// When the group is emitted with whatever arrived.
    pub deadline: Millis,
    /// The event the emitted group continues from.
    pub flush_input: EventId,
    /// State handed to the flush execution.
    pub flush_state: Value,
}

/// Converts JSON for the expression engine.
pub fn to_value(value: Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

fn nested(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}
