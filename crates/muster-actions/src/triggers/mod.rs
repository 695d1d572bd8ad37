//! Actions that start runs.

pub mod email_inbox;
pub mod manual;
pub mod schedule;
pub mod webhook;
