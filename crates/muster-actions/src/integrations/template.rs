//! An integration action ready to run: its templates compiled once, when the file is
//! loaded, and the declarations it needs at run time.

use std::collections::BTreeMap;

use muster_model::expr::{CompiledExpr, CompiledValue, Expressions};
use regex::Regex;
use reqwest::header::HeaderName;
use serde_json::{Map, Value};

use super::format::{ActionDecl, CredentialDecl, InputDecl, IntegrationFile, StatusDecl};
use super::load::anchored;

/// One compiled integration action.
pub struct ActionTemplate {
    /// `vendor.action`.
    pub kind: String,
    pub vendor: String,
    /// The action's name within the integration.
    pub name: String,
    pub method: String,
    /// `{path, url, auth, query, headers, json | form | body}`, the integration's headers
    /// included.
    pub request: CompiledValue,
    /// The `json` body as written, to tell which of its nulls came from expressions.
    pub json: Option<Value>,
    /// `auto`, `json` or `text`.
    pub response: Option<String>,
    /// `http_request`'s `paginate` option (checked when the file is loaded).
    pub paginate: Option<Value>,
    pub output: Option<CompiledValue>,
    pub error_when: Option<CompiledExpr>,
    pub error_message: Option<CompiledValue>,
    pub on_status: BTreeMap<u16, StatusDecl>,
    pub base_url: Option<String>,
    /// Whether the request template gives the whole URL (`request.url`).
    pub whole_url: bool,
    pub credential: Option<CredentialDecl>,
    pub rate_limit: Option<CompiledValue>,
    pub retry_after_header: Option<HeaderName>,
    pub inputs: Vec<Input>,
}

/// A declared input with its pattern compiled.
pub struct Input {
    pub name: String,
    pub decl: InputDecl,
    pub pattern: Option<Regex>,
}

/// A template failed to compile (the loader reports where; this only says that it did).
#[derive(Debug)]
pub struct NotCompiled;

/// Compiles action `name` of `decl`.
pub fn compile_template(
    decl: &IntegrationFile,
    name: &str,
    action: &ActionDecl,
    expressions: &Expressions,
) -> Result<ActionTemplate, NotCompiled> {
    let compile = |value: &Value| expressions.compile(value).map_err(|_| NotCompiled);
    let request = &action.request;
    let mut headers = decl.headers.clone();
    for (header, value) in &request.headers {
        // An action's header replaces the integration's, whatever the case of its name.
        headers.retain(|existing, _| !existing.eq_ignore_ascii_case(header));
        headers.insert(header.clone(), value.clone());
    }
    let mut shape = Map::new();
    shape.insert("path".into(), Value::String(request.path.clone()));
    if let Some(url) = &request.url {
        shape.insert("url".into(), Value::String(url.clone()));
    }
    if let Some(auth) = &request.auth {
        shape.insert("auth".into(), Value::String(auth.clone()));
    }
    shape.insert("query".into(), request.query.clone());
    shape.insert("headers".into(), Value::Object(headers));
    if let Some(json) = &request.json {
        shape.insert("json".into(), json.clone());
    }
    if let Some(form) = &request.form {
        shape.insert("form".into(), Value::Object(form.clone()));
    }
    if let Some(body) = &request.body {
        shape.insert("body".into(), Value::String(body.clone()));
    }
    let errors = merged_errors(decl, action);
    let error_when = match &errors.when {
        Some(text) => Some(expressions.compile_expr(text).map_err(|_| NotCompiled)?),
        None => None,
    };
    let rate_limit = action.rate_limit.as_ref().or(decl.rate_limit.as_ref());
    let mut inputs = Vec::new();
    for (input, spec) in &action.inputs {
        let pattern = match &spec.pattern {
            Some(pattern) => Some(Regex::new(&anchored(pattern)).map_err(|_| NotCompiled)?),
            None => None,
        };
        inputs.push(Input {
            name: input.clone(),
            decl: spec.clone(),
            pattern,
        });
    }
    let on_status = action
        .on_status
        .iter()
        .map(|(code, rule)| code.parse().map(|code| (code, rule.clone())))
        .collect::<Result<_, _>>()
        .map_err(|_| NotCompiled)?;
    Ok(ActionTemplate {
        kind: format!("{}.{name}", decl.vendor),
        vendor: decl.vendor.clone(),
        name: name.to_string(),
        method: request.method.to_ascii_uppercase(),
        request: compile(&Value::Object(shape))?,
        json: request.json.clone(),
        response: request.response.clone(),
        paginate: request.paginate.clone(),
        output: action.output.as_ref().map(compile).transpose()?,
        error_when,
        error_message: errors
            .message
            .map(|text| compile(&Value::String(text)))
            .transpose()?,
        on_status,
        base_url: action.base_url.clone().or_else(|| decl.base_url.clone()),
        whole_url: request.url.is_some(),
        credential: action
            .credential
            .clone()
            .or_else(|| decl.credential.clone()),
        rate_limit: rate_limit
            .map(|text| compile(&Value::String(text.clone())))
            .transpose()?,
        retry_after_header: match &decl.retry_after_header {
            Some(name) => Some(HeaderName::from_bytes(name.as_bytes()).map_err(|_| NotCompiled)?),
            None => None,
        },
        inputs,
    })
}

/// The action's `errors`, each part falling back to the integration's.
pub fn merged_errors(decl: &IntegrationFile, action: &ActionDecl) -> super::format::ErrorsDecl {
    let base = decl.errors.clone().unwrap_or_default();
    let own = action.errors.clone().unwrap_or_default();
    super::format::ErrorsDecl {
        when: own.when.or(base.when),
        message: own.message.or(base.message),
    }
}

impl ActionTemplate {
    /// Whether the request can change something on the far end.
    pub fn side_effects(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}
