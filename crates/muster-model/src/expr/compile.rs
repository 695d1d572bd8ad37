//! Compilation of option values: every string is classified once (literal, typed
//! expression, template), checked, rewritten and compiled; subtrees without expressions are
//! kept as plain JSON.

use std::sync::{Arc, OnceLock};

use minijinja::{Environment, Expression};
use serde_json::Value;

use super::ExprProblem;
use super::rewrite::{self, Shape};

/// Deepest nesting of an option value.
const MAX_OPTION_DEPTH: usize = 128;

/// One node of a compiled option value.
pub(crate) enum Node {
    /// A subtree without any expression, returned as is.
    Literal(Value),
    Typed(Box<TypedExpr>),
    Template(TemplateString),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// A string that is exactly one `{{ expr }}`, evaluated to a typed value.
pub(crate) struct TypedExpr {
    pub path: String,
    /// The text as written, for error messages.
    pub text: String,
    /// The rewritten expression, kept to build the diagnostic variant on demand.
    pub rewritten: String,
    pub env: &'static Environment<'static>,
    pub expr: Expression<'static, 'static>,
    /// `((expr))|__require`: evaluated only after a failure, to name what was undefined.
    pub diagnostic: OnceLock<Option<Expression<'static, 'static>>>,
}

/// A string rendered as a template; the compiled template lives in the value's own
/// environment under `name`.
pub(crate) struct TemplateString {
    pub path: String,
    pub text: String,
    pub name: String,
}

/// Compiles JSON values against one shared environment, collecting every problem.
pub(crate) struct Compiler {
    env: &'static Environment<'static>,
    /// The value's own environment, created when the first template is found.
    templates: Option<Environment<'static>>,
    template_count: usize,
    problems: Vec<ExprProblem>,
}

impl Compiler {
    pub fn new(env: &'static Environment<'static>) -> Self {
        Self {
            env,
            templates: None,
            template_count: 0,
            problems: Vec::new(),
        }
    }

    /// Compiles `value`; returns the root node and the environment holding its templates.
    pub fn compile(
        mut self,
        value: &Value,
    ) -> Result<(Node, Option<Arc<Environment<'static>>>), Vec<ExprProblem>> {
        let node = self.node(value, &mut String::new(), 0);
        if self.problems.is_empty() {
            Ok((node, self.templates.map(Arc::new)))
        } else {
            Err(self.problems)
        }
    }

    fn node(&mut self, value: &Value, path: &mut String, depth: usize) -> Node {
        if depth > MAX_OPTION_DEPTH {
            self.problems.push(ExprProblem {
                path: path.clone(),
                expression: String::new(),
                message: format!("the value is nested more than {MAX_OPTION_DEPTH} levels deep"),
            });
            return Node::Literal(Value::Null);
        }
        match value {
            Value::String(text) => self.string(text, path),
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{index}]"));
                    nodes.push(self.node(item, path, depth + 1));
                    path.truncate(len);
                }
                if nodes.iter().all(|node| matches!(node, Node::Literal(_))) {
                    Node::Literal(value.clone())
                } else {
                    Node::Array(nodes)
                }
            }
            Value::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (key, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    entries.push((key.clone(), self.node(item, path, depth + 1)));
                    path.truncate(len);
                }
                if entries
                    .iter()
                    .all(|(_, node)| matches!(node, Node::Literal(_)))
                {
                    Node::Literal(value.clone())
                } else {
                    Node::Object(entries)
                }
            }
            other => Node::Literal(other.clone()),
        }
    }

    fn string(&mut self, text: &str, path: &str) -> Node {
        let fail = |problems: &mut Vec<ExprProblem>, message: String| {
            problems.push(ExprProblem {
                path: path.to_owned(),
                expression: text.to_owned(),
                message,
            });
            Node::Literal(Value::Null)
        };
        match rewrite::analyse_string(text, self.env) {
            Ok(Shape::Literal) => Node::Literal(Value::String(text.to_owned())),
            Ok(Shape::Typed(rewritten)) => {
                match typed(self.env, path.to_owned(), text.to_owned(), rewritten) {
                    Ok(typed) => Node::Typed(Box::new(typed)),
                    Err(message) => fail(&mut self.problems, message),
                }
            }
            Ok(Shape::Template(rewritten)) => {
                // Paths can collide (`{"a.b": …, "a": {"b": …}}`), so templates are numbered.
                self.template_count += 1;
                let name = format!("option-{}", self.template_count);
                let env = self.templates.get_or_insert_with(|| self.env.clone());
                match env.add_template_owned(name.clone(), rewritten) {
                    Ok(()) => Node::Template(TemplateString {
                        path: path.to_owned(),
                        text: text.to_owned(),
                        name,
                    }),
                    Err(err) => fail(&mut self.problems, rewrite::describe(&err, text)),
                }
            }
            Err(message) => fail(&mut self.problems, message),
        }
    }
}

/// Compiles an already rewritten expression.
pub(crate) fn typed(
    env: &'static Environment<'static>,
    path: String,
    text: String,
    rewritten: String,
) -> Result<TypedExpr, String> {
    let expr = env
        .compile_expression_owned(rewritten.clone())
        .map_err(|err| rewrite::describe(&err, &text))?;
    Ok(TypedExpr {
        path,
        text,
        rewritten,
        env,
        expr,
        diagnostic: OnceLock::new(),
    })
}
