//! Security intelligence for Muster: indicator (IOC) extraction, defang/refang, email
//! forensics and alert normalisation.
//!
//! Pure: no I/O, no async, no global state beyond compiled-in tables. Every function takes
//! text or bytes and returns data, so the same code serves playbook actions, expression
//! filters and the `muster intel` CLI.

pub mod defang;
pub mod domain;
pub mod email;
pub mod ioc;
pub mod net;
pub mod normalize;
