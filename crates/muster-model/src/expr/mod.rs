//! The expression language: Jinja2 syntax through minijinja, strict about missing values,
//! bounded in fuel and recursion, with the security filters playbooks need.
//!
//! A string option that is exactly one `{{ expr }}` evaluates to a typed JSON value; any other
//! string containing `{{`/`{%` is a template rendered to a string; other strings are literals.
//! Options are compiled once when a playbook is loaded ([`Expressions::compile`]) and rendered
//! per task against a [`Scope`].

use std::sync::Arc;

use serde_json::Value;

use crate::context::ContextNode;

/// The shared expression environment (filters, tests, limits). Cheap to clone.
#[derive(Clone)]
pub struct Expressions {}

/// A problem found while compiling an option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} in `{expression}`")]
pub struct ExprProblem {
    /// Dot path below the compiled value (`json.ip`, `headers.X-Key`, `[2]`); empty for the root.
    pub path: String,
    pub expression: String,
    pub message: String,
}

/// A failure while rendering an option against a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option `{path}`: {message} (in `{expression}`)")]
pub struct RenderError {
    pub path: String,
    pub expression: String,
    pub message: String,
}

/// A JSON value whose strings have been compiled. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct CompiledValue {}

/// A single compiled expression such as a condition's `when:`.
#[derive(Clone)]
pub struct CompiledExpr {}

/// What expressions can see: the event chain keyed by action id, plus named variables
/// (`task`, `run`, `item`, …) that shadow action ids.
pub struct Scope<'a> {
    pub chain: Option<&'a Arc<ContextNode>>,
    pub vars: Vec<(&'a str, minijinja::Value)>,
}

impl<'a> Scope<'a> {
    pub fn new(chain: Option<&'a Arc<ContextNode>>) -> Self {
        Self {
            chain,
            vars: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'a str, value: minijinja::Value) -> Self {
        self.vars.push((name, value));
        self
    }
}

impl Default for Expressions {
    fn default() -> Self {
        Self::new()
    }
}

impl Expressions {
    pub fn new() -> Self {
        unimplemented!()
    }

    /// Compiles every string in `value`; all problems are reported at once.
    pub fn compile(&self, value: &Value) -> Result<CompiledValue, Vec<ExprProblem>> {
        unimplemented!("{value}")
    }

    /// Compiles one expression. Accepts both `x > 1` and `{{ x > 1 }}`.
    pub fn compile_expr(&self, text: &str) -> Result<CompiledExpr, ExprProblem> {
        unimplemented!("{text}")
    }
}

impl CompiledValue {
    /// Renders against `scope`; errors name the option path and the expression.
    pub fn render(&self, scope: &Scope<'_>) -> Result<Value, RenderError> {
        let _ = scope;
        unimplemented!()
    }

    /// Whether the value contains no expression at all.
    pub fn is_static(&self) -> bool {
        unimplemented!()
    }
}

impl CompiledExpr {
    /// Evaluates to a JSON value.
    pub fn eval(&self, scope: &Scope<'_>) -> Result<Value, RenderError> {
        let _ = scope;
        unimplemented!()
    }

    /// Evaluates and takes Jinja truthiness (missing values are errors, not `false`).
    pub fn eval_bool(&self, scope: &Scope<'_>) -> Result<bool, RenderError> {
        let _ = scope;
        unimplemented!()
    }
}
