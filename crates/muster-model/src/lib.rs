//! The Muster playbook model: identifiers, the playbook document and its YAML form, validation
//! against the action catalogue, and the expression language used in action options.
//!
//! This crate is pure: no I/O beyond parsing the text it is given, no async. Everything that
//! runs playbooks (store, engine, actions, server) builds on these types.

pub mod catalog;
pub mod context;
pub mod duration;
pub mod expr;
pub mod ids;
pub mod link;
pub mod load;
pub mod playbook;

pub use catalog::{ActionCatalog, ActionKindInfo, OptionProblem};
pub use context::ContextNode;
pub use duration::HumanDuration;
pub use ids::{EventId, RunId, TaskId};
pub use link::Link;
pub use playbook::{ActionDef, Playbook, RetryPolicy, Settings};
