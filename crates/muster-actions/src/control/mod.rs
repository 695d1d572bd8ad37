//! Control and data actions: shape values, branch, fan out and in, wait, call playbooks.

pub mod condition;
pub mod deduplicate;
pub mod delay;
pub mod exit;
pub mod explode;
pub mod implode;
pub mod run_playbook;
pub mod set;
pub mod throttle;
