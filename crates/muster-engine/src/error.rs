//! Errors of the engine's API.

use muster_model::load::Diagnostic;
use muster_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The playbook text has problems; nothing was stored.
    #[error("the playbook is invalid ({} problem(s))", .0.len())]
    Invalid(Vec<Diagnostic>),
    #[error("playbook {0} not found")]
    UnknownPlaybook(String),
    #[error("playbook {0} is disabled")]
    Disabled(String),
    #[error("{0}")]
    BadRequest(String),
    /// A run was already started with the same once-only key (an idempotency key).
    #[error("a run was already started with this key (run {run_id})")]
    Duplicate { run_id: String },
    #[error("run {0} not found")]
    UnknownRun(String),
    /// A stored version no longer loads (for example an action type was removed).
    #[error("stored playbook {name} version {version} no longer loads: {}", problems.join("; "))]
    StoredPlaybookInvalid {
        name: String,
        version: i64,
        problems: Vec<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}
