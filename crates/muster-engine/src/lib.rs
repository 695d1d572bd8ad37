//! The Muster engine: the run state machine on top of a [`muster_store::Store`], the worker
//! that claims and executes tasks, schedules, retention, and the [`Action`] trait through
//! which it knows action types.
//!
//! The engine knows actions only through the trait and a [`Registry`]; adding an action type
//! is one file in `muster-actions` plus one line in its registry.

mod action;
mod compiled;
mod context;
pub mod credentials;
mod engine;
mod error;
mod execute;
mod follow;
mod inputs;
mod playbooks;
mod poller;
mod polling;
mod registry;
mod retention;
mod retry;
mod scheduler;
mod watch;

pub use action::{Action, ActionError, ActionSpec, Emission, ErrorClass, Outcome, Wait};
pub use compiled::{CompiledAction, CompiledPlaybook};
pub use context::{ActionContext, GroupEntry, Services, TaskInfo, to_value};
pub use credentials::{CredentialError, Credentials, MasterKey, Secret};
pub use engine::{Engine, EngineConfig, Installed, TriggerRequest};
pub use error::EngineError;
pub use inputs::apply_inputs;
pub use muster_store::{GroupOp, Millis, StateEntry, StateExpect, StateWrite, format_millis};
pub use playbooks::HookRoute;
pub use polling::{MAX_BACKOFF, PollContext, PollStatus, Started};
pub use registry::Registry;
pub use watch::RunResult;
