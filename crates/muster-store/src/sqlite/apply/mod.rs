//! The write transactions of the task queue and run state machine.
//!
//! Every function here runs inside the writer's group transaction: it either applies
//! completely or returns an error, and the writer then makes sure it left nothing behind.

mod claims;
mod complete;
mod fanin;
mod housekeeping;
mod lifecycle;
mod rows;
mod start;

pub use claims::{claim, heartbeat, release, release_all};
pub use complete::complete;
pub use housekeeping::{prune_runs, prune_state, set_schedule};
pub use lifecycle::cancel_run;
pub use start::start_run;

use complete::*;
use fanin::*;
use lifecycle::*;
use rows::*;
use start::*;

use crate::{Result, StoreError};

pub(crate) fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| StoreError::Database(format!("stored id {text:?} is not a UUID").into()))
}
