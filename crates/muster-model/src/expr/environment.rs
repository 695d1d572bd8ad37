//! The minijinja environment behind [`Expressions`](super::Expressions) and the limits it
//! enforces.
//!
//! One environment exists per distinct [`Limits`] value for the whole process. It is built
//! once and kept for the life of the process (`&'static`), so that compiled expressions can
//! borrow it without self-referencing structs; compiled items themselves are owned and freed
//! with the playbook version that holds them, so nothing grows per playbook.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::filters;

/// Bounds on the work one expression or template may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Fuel for one evaluation of one string. Every instruction costs one unit, and data
    /// produced or visited costs one unit per 64 bytes (minijinja's accounting).
    pub fuel: u64,
    /// Maximum nesting of frames: loops, `with` blocks and macro calls (one call takes
    /// several frames).
    pub recursion: usize,
    /// Maximum size in bytes of one rendered template string.
    pub max_output_bytes: usize,
}

impl Limits {
    /// Fuel for one string: enough to loop over tens of thousands of indicators, small
    /// enough that a runaway loop fails within milliseconds.
    pub const DEFAULT_FUEL: u64 = 1_000_000;
    /// Nesting depth of frames (loops, macro calls, `with` blocks); one macro call takes
    /// several frames, so this allows about 15 nested macro calls.
    pub const DEFAULT_RECURSION: usize = 100;
    /// One MiB of rendered text per template string.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: Self::DEFAULT_FUEL,
            recursion: Self::DEFAULT_RECURSION,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// The shared environment for `limits`, built on first use.
pub(crate) fn environment(limits: Limits) -> &'static Environment<'static> {
    static ENVIRONMENTS: OnceLock<Mutex<HashMap<Limits, &'static Environment<'static>>>> =
        OnceLock::new();
    let cache = ENVIRONMENTS.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked while inserting; the map itself
    // is still consistent (entries are inserted whole).
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(limits)
        .or_insert_with(|| Box::leak(Box::new(build(limits))))
}

fn build(limits: Limits) -> Environment<'static> {
    let mut env = Environment::new();
    // SemiStrict: printing, iterating, comparing or passing a missing value to a filter is
    // an error; testing it for truth is allowed. Chained lookups through missing values in
    // fallback positions are made safe at compile time (see `rewrite`).
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // Debug mode lets errors name the undefined expression (`alert.body.nope`).
    env.set_debug(true);
    env.set_fuel(Some(limits.fuel));
    env.set_recursion_limit(limits.recursion);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // `debug()` dumps the whole context, credentials included.
    env.remove_global("debug");
    filters::register(&mut env);
    env
}
