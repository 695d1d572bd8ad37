//! Actions that start runs.

pub mod manual;
pub mod schedule;
pub mod webhook;
