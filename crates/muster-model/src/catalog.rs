//! What the loader needs to know about action types, without depending on their code.
//!
//! The engine's action registry implements [`ActionCatalog`]; the loader uses it to reject
//! unknown types, links from ports an action does not have, and invalid options.

use crate::playbook::ActionDef;

/// What kind of action a type is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionKindInfo {
    /// Whether the type starts runs (`webhook`, `schedule`, `manual`, …).
    pub trigger: bool,
}

/// A problem with an action's options, found by the action type itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionProblem {
    /// Path below `options`, dot-separated (`json.ip`, `headers.Authorization`); empty for
    /// the options object itself.
    pub path: String,
    pub message: String,
    /// A one-line suggestion that fixes it.
    pub hint: Option<String>,
}

/// The set of action types a playbook may use.
pub trait ActionCatalog: Send + Sync {
    /// Information about a type, or `None` when the type is unknown.
    fn kind_info(&self, kind: &str) -> Option<ActionKindInfo>;

    /// Every known type name, for "did you mean" hints.
    fn kind_names(&self) -> Vec<String>;

    /// The output ports of this action (always including `out`; `error` is implicit and
    /// need not be listed).
    fn ports(&self, action: &ActionDef) -> Vec<String>;

    /// Problems with the action's options (unknown keys, wrong types, missing required ones).
    fn check_options(&self, action: &ActionDef) -> Vec<OptionProblem>;
}
