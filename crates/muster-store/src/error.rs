//! Errors of the storage layer.

use std::sync::Arc;

/// Why a storage operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The task is no longer held by this claim: it was completed, cancelled, or its lease
    /// expired and another worker took it over. The operation changed nothing.
    #[error("task {task} is not held by this claim (completed, cancelled or taken over)")]
    LostClaim { task: String },
    /// An optimistic check failed (state written concurrently); retry the operation.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A run was already started with this once-only key; `run_id` is that run.
    #[error("a run was already started for {key} (run {run_id})")]
    Duplicate { key: String, run_id: String },
    /// The named record does not exist.
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    /// The request is invalid (for example a second store opened on the same data directory).
    #[error("{0}")]
    Invalid(String),
    /// The database failed; the message says how.
    #[error("database error: {0}")]
    Database(Arc<str>),
    /// The store is shutting down and accepts no more writes.
    #[error("the store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database(err.to_string().into())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Database(format!("stored JSON is invalid: {err}").into())
    }
}
