//! Durable storage for Muster.
//!
//! [`Store`] is the one abstraction the engine and the server use. Every state change of a task
//! is one transaction ([`WriteOp`]): starting a run, completing a task (its output events, the
//! downstream tasks and the run's status together), retrying, parking, failing. Claims carry
//! leases with expiry and a fencing token, so nothing relies on being the only process.
//!
//! [`SqliteStore`] is the embedded implementation: WAL mode, one writer thread that commits many
//! operations per transaction (group commit), and a small pool of reader connections.

mod error;
mod records;
pub mod sqlite;
mod store;
mod time;
mod writes;

pub use error::StoreError;
pub use records::*;
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};
pub use store::{CommitTicket, Store};
pub use time::{Millis, format_millis, now_millis};
pub use writes::*;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
