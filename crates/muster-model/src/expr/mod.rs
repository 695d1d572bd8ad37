//! The expression language: Jinja2 syntax through minijinja, strict about missing values,
//! bounded in fuel and recursion, with the security filters playbooks need.
//!
//! A string option that is exactly one `{{ expr }}` evaluates to a typed JSON value; any other
//! string containing `{{`/`{%` is a template rendered to a string; other strings are literals.
//! Options are compiled once when a playbook is loaded ([`Expressions::compile`]) and rendered
//! per task against a [`Scope`]. The rules are written down for users in
//! `docs/expressions.md`.
//!
//! Layout: `environment` (the engine and its [`Limits`]), `rewrite` (classification, static
//! checks and the fallback rewrite), `compile` (option values to compiled nodes), `render`
//! (evaluation and error messages), `convert` (engine values to JSON), `credential_ref`
//! (credential references), `scope` (name resolution), `filters` (the functions, filters and tests by theme).

mod compile;
mod convert;
mod credential_ref;
mod environment;
mod filters;
mod render;
mod rewrite;
mod scope;

use std::sync::Arc;

use minijinja::Environment;
use serde_json::Value;

pub use credential_ref::{
    CredentialRef, credentials_variable, has_references, references, replace_references, valid_name,
};
pub use environment::Limits;
pub use filters::time::DateTime;
pub use scope::Scope;

use compile::{Compiler, Node, TypedExpr};

/// The shared expression environment (filters, tests, limits). Cheap to clone.
#[derive(Clone)]
pub struct Expressions {
    env: &'static Environment<'static>,
    limits: Limits,
}

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
pub struct CompiledValue {
    root: Arc<Node>,
    /// The value's own environment holding its templates; `None` when it has none.
    templates: Option<Arc<Environment<'static>>>,
    max_output: usize,
}

/// A single compiled expression such as a condition's `when:`.
#[derive(Clone)]
pub struct CompiledExpr {
    inner: Arc<TypedExpr>,
}

impl Default for Expressions {
    fn default() -> Self {
        Self::new()
    }
}

impl Expressions {
    /// The environment with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// The environment with other limits. Environments are shared per distinct `limits`
    /// value for the life of the process, so creating many is cheap.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            env: environment::environment(limits),
            limits,
        }
    }

    /// The limits this environment enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Names of the functions (`now`, `dt`, `uuid`, `range`, …). A variable or action id
    /// with the same name hides the function.
    pub fn function_names(&self) -> Vec<String> {
        self.env
            .globals()
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Compiles every string in `value`; all problems are reported at once.
    pub fn compile(&self, value: &Value) -> Result<CompiledValue, Vec<ExprProblem>> {
        let (root, templates) = Compiler::new(self.env).compile(value)?;
        Ok(CompiledValue {
            root: Arc::new(root),
            templates,
            max_output: self.limits.max_output_bytes,
        })
    }

    /// Compiles one expression. Accepts both `x > 1` and `{{ x > 1 }}`.
    pub fn compile_expr(&self, text: &str) -> Result<CompiledExpr, ExprProblem> {
        let problem = |message: String| ExprProblem {
            path: String::new(),
            expression: text.to_owned(),
            message,
        };
        let rewritten = if rewrite::has_markup(text) {
            match rewrite::analyse_string(text, self.env).map_err(problem)? {
                rewrite::Shape::Typed(rewritten) => rewritten,
                _ => {
                    return Err(problem(
                        "expected a single expression such as `{{ x > 1 }}`, not a template".into(),
                    ));
                }
            }
        } else {
            if text.trim().is_empty() {
                return Err(problem("the expression is empty".into()));
            }
            rewrite::analyse_expression(text, self.env).map_err(problem)?
        };
        let typed =
            compile::typed(self.env, String::new(), text.to_owned(), rewritten).map_err(problem)?;
        Ok(CompiledExpr {
            inner: Arc::new(typed),
        })
    }
}

impl CompiledValue {
    /// Renders against `scope`; errors name the option path and the expression.
    pub fn render(&self, scope: &Scope<'_>) -> Result<Value, RenderError> {
        if let Node::Literal(value) = &*self.root {
            return Ok(value.clone());
        }
        render::render_node(
            &self.root,
            &scope.to_value(),
            self.templates.as_deref(),
            self.max_output,
        )
    }

    /// Whether the value contains no expression at all.
    pub fn is_static(&self) -> bool {
        matches!(&*self.root, Node::Literal(_))
    }
}

impl CompiledExpr {
    /// Evaluates to a JSON value.
    pub fn eval(&self, scope: &Scope<'_>) -> Result<Value, RenderError> {
        self.inner.eval_json(&scope.to_value())
    }

    /// Evaluates and takes Jinja truthiness (missing values are errors, not `false`).
    pub fn eval_bool(&self, scope: &Scope<'_>) -> Result<bool, RenderError> {
        Ok(self.inner.eval_value(&scope.to_value())?.is_true())
    }

    /// Evaluates to an engine value (for callers that pass it on to other expressions, such
    /// as a loop's items).
    pub fn eval_value(&self, scope: &Scope<'_>) -> Result<minijinja::Value, RenderError> {
        self.inner.eval_value(&scope.to_value())
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.inner.text
    }
}

/// Compile-time proof that compiled items can be shared between threads.
const _: () = {
    const fn shared<T: Clone + Send + Sync>() {}
    shared::<Expressions>();
    shared::<CompiledValue>();
    shared::<CompiledExpr>();
};
