//! Rendering compiled values against a scope, and engine errors turned into messages that
//! say what is wrong in which expression.

use std::io;

use minijinja::{Environment, ErrorKind, Value};

use super::RenderError;
use super::compile::{Node, TemplateString, TypedExpr};
use super::convert::{ConvertError, to_json};

/// Renders `node` against the scope value `root`.
pub(crate) fn render_node(
    node: &Node,
    root: &Value,
    templates: Option<&Environment<'static>>,
    max_output: usize,
) -> Result<serde_json::Value, RenderError> {
    Ok(match node {
        Node::Literal(value) => value.clone(),
        Node::Typed(typed) => typed.eval_json(root)?,
        Node::Template(template) => {
            serde_json::Value::String(render_template(templates, template, root, max_output)?)
        }
        Node::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|item| render_node(item, root, templates, max_output))
                .collect::<Result<_, _>>()?,
        ),
        Node::Object(entries) => {
            let mut map = serde_json::Map::with_capacity(entries.len());
            for (key, item) in entries {
                map.insert(key.clone(), render_node(item, root, templates, max_output)?);
            }
            serde_json::Value::Object(map)
        }
    })
}

impl TypedExpr {
    /// Evaluates to an engine value that is not undefined.
    pub(crate) fn eval_value(&self, root: &Value) -> Result<Value, RenderError> {
        let value = self
            .expr
            .eval(root.clone())
            .map_err(|err| self.error(message(&err, &self.text, self.env)))?;
        if value.is_undefined() {
            return Err(self.undefined_error(root));
        }
        Ok(value)
    }

    /// Evaluates to JSON.
    pub(crate) fn eval_json(&self, root: &Value) -> Result<serde_json::Value, RenderError> {
        let value = self.eval_value(root)?;
        to_json(&value).map_err(|err| match err {
            ConvertError::Undefined => self.undefined_error(root),
            ConvertError::Unsupported(message) => self.error(message),
        })
    }

    /// Explains an undefined result: the expression is evaluated again with the check inside
    /// the engine, which knows which lookup produced the undefined value.
    fn undefined_error(&self, root: &Value) -> RenderError {
        let diagnostic = self.diagnostic.get_or_init(|| {
            self.env
                .compile_expression_owned(format!("(({}))|__require", self.rewritten))
                .ok()
        });
        let described = diagnostic
            .as_ref()
            .and_then(|expr| expr.eval(root.clone()).err())
            .filter(|err| err.kind() == ErrorKind::UndefinedError)
            .map(|err| message(&err, &self.text, self.env));
        self.error(
            described.unwrap_or_else(|| {
                "the result is undefined: a value it uses is missing".to_owned()
            }),
        )
    }

    fn error(&self, message: String) -> RenderError {
        RenderError {
            path: self.path.clone(),
            expression: self.text.clone(),
            message,
        }
    }
}

/// Renders one template string, refusing output beyond `max_output` bytes.
fn render_template(
    templates: Option<&Environment<'static>>,
    template: &TemplateString,
    root: &Value,
    max_output: usize,
) -> Result<String, RenderError> {
    let error = |message: String| RenderError {
        path: template.path.clone(),
        expression: template.text.clone(),
        message,
    };
    let env = templates.ok_or_else(|| error(missing_template()))?;
    let compiled = env
        .get_template(&template.name)
        .map_err(|_| error(missing_template()))?;
    let mut out = CappedBuffer {
        bytes: Vec::with_capacity(template.text.len() + 64),
        max: max_output,
        exceeded: false,
    };
    let result = compiled.render_captured_to(root.clone(), &mut out);
    if out.exceeded {
        return Err(error(format!(
            "the rendered text is larger than the limit of {max_output} bytes"
        )));
    }
    result.map_err(|err| error(message(&err, &template.text, env)))?;
    String::from_utf8(out.bytes).map_err(|_| error("the rendered text is not valid UTF-8".into()))
}

fn missing_template() -> String {
    "the compiled template is missing; compile the value again".into()
}

/// Collects rendered bytes up to a limit.
struct CappedBuffer {
    bytes: Vec<u8>,
    max: usize,
    exceeded: bool,
}

impl io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > self.max {
            self.exceeded = true;
            return Err(io::Error::other("output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An engine error as one sentence for an analyst.
pub(crate) fn message(err: &minijinja::Error, text: &str, env: &Environment<'_>) -> String {
    let mut message = match (err.kind(), err.detail()) {
        (ErrorKind::OutOfFuel, _) => format!(
            "too much work: evaluation stopped after using its fuel budget of {} (a loop or \
             the data it walks is too large)",
            env.fuel().unwrap_or_default()
        ),
        (ErrorKind::UndefinedError, Some(detail)) => detail.to_owned(),
        (ErrorKind::UndefinedError, None) => "a value it uses is undefined".to_owned(),
        // Our filters and minijinja's operators say what went wrong in the detail.
        (ErrorKind::InvalidOperation, Some(detail)) => detail.to_owned(),
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    };
    if text.contains('\n')
        && let Some(line) = err.line()
    {
        message.push_str(&format!(" (line {line})"));
    }
    message
}
