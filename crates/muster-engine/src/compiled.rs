//! A playbook version ready to run: validated, options compiled, links indexed by port.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use muster_model::expr::{CompiledValue, Expressions};
use muster_model::load::{Diagnostic, load_playbook, to_canonical_yaml};
use muster_model::{ActionDef, Playbook, RetryPolicy};
use tokio::sync::Semaphore;

use crate::action::Action;
use crate::registry::Registry;

/// One action of a compiled playbook.
pub struct CompiledAction {
    pub def: ActionDef,
    pub implementation: Arc<dyn Action>,
    /// Each top-level option, compiled; in the order written.
    pub options: Vec<(String, CompiledValue)>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Bounds concurrent executions when the action sets `concurrency`.
    pub limit: Option<Arc<Semaphore>>,
    /// Whether a link leaves the `error` port.
    pub handles_errors: bool,
    /// Whether executing it can change something outside Muster (see `ActionSpec`).
    pub side_effects: bool,
    /// Whether an option's expression mentions `resources`, which are then loaded for each
    /// execution.
    pub uses_resources: bool,
}

impl CompiledAction {
    pub fn id(&self) -> &str {
        &self.def.id
    }

    pub fn kind(&self) -> &str {
        &self.def.kind
    }

    pub fn option(&self, name: &str) -> Option<&CompiledValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A validated playbook version with everything precomputed for execution.
pub struct CompiledPlaybook {
    pub playbook: Playbook,
    pub version: i64,
    /// The canonical YAML source.
    pub source: String,
    actions: Vec<CompiledAction>,
    index: HashMap<String, usize>,
    /// Per action index: (port, indexes of the linked actions).
    routes: Vec<Vec<(String, Vec<usize>)>>,
    /// Bounds concurrent executions of the playbook's tasks when settings set `concurrency`.
    pub limit: Option<Arc<Semaphore>>,
}

impl CompiledPlaybook {
    /// Loads and compiles `text`; every problem is returned as a diagnostic.
    pub fn load(
        file: &str,
        text: &str,
        registry: &Registry,
        expressions: &Expressions,
    ) -> Result<Self, Vec<Diagnostic>> {
        let playbook = load_playbook(file, text, registry, expressions)?;
        Self::compile(playbook, 0, registry, expressions).map_err(|message| {
            vec![Diagnostic {
                file: file.to_string(),
                line: 1,
                column: 1,
                message,
                hint: None,
            }]
        })
    }

    /// Compiles an already validated playbook.
    pub fn compile(
        playbook: Playbook,
        version: i64,
        registry: &Registry,
        expressions: &Expressions,
    ) -> Result<Self, String> {
        let default_timeout = playbook.settings.action_timeout().as_duration();
        let mut actions = Vec::with_capacity(playbook.actions.len());
        let mut index = HashMap::new();
        for (position, def) in playbook.actions.iter().enumerate() {
            let implementation = registry
                .get(&def.kind)
                .ok_or_else(|| format!("action `{}` has unknown type `{}`", def.id, def.kind))?
                .clone();
            let mut options = Vec::with_capacity(def.options.len());
            for (name, value) in &def.options {
                let compiled = expressions.compile(value).map_err(|problems| {
                    let first = &problems[0];
                    format!("action `{}`, option `{name}`: {first}", def.id)
                })?;
                options.push((name.clone(), compiled));
            }
            let handles_errors = playbook
                .links
                .iter()
                .any(|l| l.from == def.id && l.port == muster_model::link::ERROR_PORT);
            index.insert(def.id.clone(), position);
            actions.push(CompiledAction {
                def: def.clone(),
                options,
                timeout: def.timeout.map_or(default_timeout, |t| t.as_duration()),
                retry: def.retry.clone().unwrap_or_default(),
                limit: def
                    .concurrency
                    .map(|n| Arc::new(Semaphore::new(n.max(1) as usize))),
                handles_errors,
                side_effects: implementation.side_effects(def),
                uses_resources: def.options.values().any(mentions_resources),
                implementation,
            });
        }
        let mut routes: Vec<Vec<(String, Vec<usize>)>> = vec![Vec::new(); actions.len()];
        for link in &playbook.links {
            let (Some(&from), Some(&to)) = (index.get(&link.from), index.get(&link.to)) else {
                return Err(format!("link `{link}` names a missing action"));
            };
            let ports = &mut routes[from];
            match ports.iter_mut().find(|(port, _)| *port == link.port) {
                Some((_, targets)) => targets.push(to),
                None => ports.push((link.port.clone(), vec![to])),
            }
        }
        let source = to_canonical_yaml(&playbook);
        let limit = playbook
            .settings
            .concurrency
            .map(|n| Arc::new(Semaphore::new(n.max(1) as usize)));
        Ok(Self {
            playbook,
            version,
            source,
            actions,
            index,
            routes,
            limit,
        })
    }

    pub fn name(&self) -> &str {
        &self.playbook.name
    }

    pub fn action(&self, id: &str) -> Option<&CompiledAction> {
        self.index.get(id).map(|&i| &self.actions[i])
    }

    pub fn actions(&self) -> &[CompiledAction] {
        &self.actions
    }

    /// The actions linked from `action`'s `port`.
    pub fn targets(&self, action: &str, port: &str) -> impl Iterator<Item = &CompiledAction> {
        self.index
            .get(action)
            .and_then(|&i| self.routes[i].iter().find(|(p, _)| p == port))
            .into_iter()
            .flat_map(|(_, targets)| targets.iter())
            .map(|&i| &self.actions[i])
    }

    /// Trigger actions, in the order written.
    pub fn triggers(&self) -> impl Iterator<Item = &CompiledAction> {
        self.actions
            .iter()
            .filter(|a| a.implementation.spec().trigger)
    }

    /// The trigger a run starts from when none is named: the first `manual` trigger, else the
    /// first trigger.
    pub fn default_trigger(&self) -> Option<&CompiledAction> {
        self.triggers()
            .find(|a| a.kind() == "manual")
            .or_else(|| self.triggers().next())
    }
}

/// Whether an expression in `value` may read `resources` (a plain string that only contains
/// the word, such as a URL path, does not count).
fn mentions_resources(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => {
            (text.contains("{{") || text.contains("{%")) && text.contains("resources")
        }
        serde_json::Value::Array(items) => items.iter().any(mentions_resources),
        serde_json::Value::Object(map) => map.values().any(mentions_resources),
        _ => false,
    }
}
