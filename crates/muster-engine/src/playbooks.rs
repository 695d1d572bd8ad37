//! Compiled playbooks in memory: every version a run may need, the current version of each
//! playbook with its enabled flag, and the webhook routes of the current versions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use muster_model::expr::Expressions;
use muster_model::load::load_playbook;
use muster_store::{PlaybookRecord, Store};

use crate::compiled::CompiledPlaybook;
use crate::error::EngineError;
use crate::registry::Registry;

/// The current version of a playbook.
#[derive(Clone)]
pub struct Current {
    pub compiled: Arc<CompiledPlaybook>,
    pub enabled: bool,
}

/// Where a webhook path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRoute {
    pub playbook: String,
    pub action: String,
}

#[derive(Default)]
pub struct PlaybookCache {
    versions: RwLock<HashMap<(String, i64), Arc<CompiledPlaybook>>>,
    current: RwLock<HashMap<String, Current>>,
    hooks: RwLock<HashMap<String, HookRoute>>,
}

impl PlaybookCache {
    /// Compiles a stored version.
    pub fn compile_record(
        record: &PlaybookRecord,
        registry: &Registry,
        expressions: &Expressions,
    ) -> Result<Arc<CompiledPlaybook>, EngineError> {
        let file = format!("{}@{}", record.name, record.version);
        let playbook =
            load_playbook(&file, &record.source, registry, expressions).map_err(|diagnostics| {
                EngineError::StoredPlaybookInvalid {
                    name: record.name.clone(),
                    version: record.version,
                    problems: diagnostics.iter().map(ToString::to_string).collect(),
                }
            })?;
        CompiledPlaybook::compile(playbook, record.version, registry, expressions)
            .map(Arc::new)
            .map_err(|problem| EngineError::StoredPlaybookInvalid {
                name: record.name.clone(),
                version: record.version,
                problems: vec![problem],
            })
    }

    /// A specific version, compiled on first use.
    pub async fn version(
        &self,
        store: &dyn Store,
        registry: &Registry,
        expressions: &Expressions,
        name: &str,
        version: i64,
    ) -> Result<Arc<CompiledPlaybook>, EngineError> {
        if let Some(found) = self
            .versions
            .read()
            .ok()
            .and_then(|v| v.get(&(name.to_string(), version)).cloned())
        {
            return Ok(found);
        }
        let record = store
            .playbook_version(name, version)
            .await?
            .ok_or_else(|| EngineError::UnknownPlaybook(format!("{name} version {version}")))?;
        let compiled = Self::compile_record(&record, registry, expressions)?;
        if let Ok(mut versions) = self.versions.write() {
            versions.insert((name.to_string(), version), compiled.clone());
        }
        Ok(compiled)
    }

    pub fn current(&self, name: &str) -> Option<Current> {
        self.current.read().ok()?.get(name).cloned()
    }

    pub fn all_current(&self) -> Vec<Current> {
        let mut all: Vec<Current> = self
            .current
            .read()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.compiled.name().cmp(b.compiled.name()));
        all
    }

    pub fn hook(&self, path: &str) -> Option<HookRoute> {
        self.hooks.read().ok()?.get(path).cloned()
    }

    /// The playbook (other than `except`) that already listens on `path`, if any.
    pub fn hook_owner(&self, path: &str, except: &str) -> Option<String> {
        self.hooks
            .read()
            .ok()?
            .get(path)
            .filter(|route| route.playbook != except)
            .map(|route| route.playbook.clone())
    }

    /// Makes `compiled` the current version of its playbook.
    pub fn set_current(&self, compiled: Arc<CompiledPlaybook>, enabled: bool) {
        let name = compiled.name().to_string();
        if let Ok(mut versions) = self.versions.write() {
            versions.insert((name.clone(), compiled.version), compiled.clone());
        }
        if let Ok(mut current) = self.current.write() {
            current.insert(name, Current { compiled, enabled });
        }
        self.rebuild_hooks();
    }

    pub fn set_enabled(&self, name: &str, enabled: bool) {
        if let Ok(mut current) = self.current.write()
            && let Some(entry) = current.get_mut(name)
        {
            entry.enabled = enabled;
        }
    }

    pub fn remove(&self, name: &str) {
        if let Ok(mut current) = self.current.write() {
            current.remove(name);
        }
        self.rebuild_hooks();
    }

    fn rebuild_hooks(&self) {
        let mut hooks = HashMap::new();
        for current in self.all_current() {
            for action in current.compiled.triggers() {
                if let Some(path) = action.implementation.webhook_path(&action.def) {
                    hooks.insert(
                        path,
                        HookRoute {
                            playbook: current.compiled.name().to_string(),
                            action: action.id().to_string(),
                        },
                    );
                }
            }
        }
        if let Ok(mut table) = self.hooks.write() {
            *table = hooks;
        }
    }
}
