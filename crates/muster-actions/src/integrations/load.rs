//! Reading an integration file: YAML with the playbook loader's rules, the shape of
//! [`IntegrationFile`], then the checks that make a file safe to run — URLs, credentials,
//! rate limits, inputs, methods, and every template compiled — each problem reported as a
//! `file:line:column` diagnostic. A file with any problem is not loaded.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use muster_engine::Secret;
use muster_engine::credentials::{check_domain_pattern, domain_allowed};
use muster_model::expr::Expressions;
use muster_model::load::{Diagnostic, LocatedDocument, parse_located};
use regex::Regex;
use reqwest::header::HeaderName;
use serde_json::{Map, Value};

use super::format::{ActionDecl, CredentialDecl, InputDecl, IntegrationFile, RequestDecl};
use super::template::compile_template;
use super::{COMMON_OPTIONS, Integration};
use crate::http::Rate;
use crate::http::paginate::{PaginateOptions, Paginator};

const EMPTY_HINT: &str = "an integration needs `vendor:`, `title:`, `summary:` and `actions:`";

/// Reads one integration file named `file` (its stem must be the vendor's name).
pub fn load(file: &str, text: &str) -> Result<Integration, Vec<Diagnostic>> {
    let document = parse_located(file, text, "integration", EMPTY_HINT)?;
    let decl: IntegrationFile = match serde_path_to_error::deserialize(document.value()) {
        Ok(decl) => decl,
        Err(error) => return Err(vec![shape_problem(&document, error)]),
    };
    let expressions = Expressions::new();
    let mut checker = Checker {
        document: &document,
        expressions: &expressions,
        problems: Vec::new(),
    };
    checker.integration(file, &decl);
    let mut actions = Vec::new();
    for (name, action) in &decl.actions {
        let pointer = format!("/actions/{}", escape(name));
        checker.action(&decl, name, action, &pointer);
        if let Ok(template) = compile_template(&decl, name, action, &expressions) {
            actions.push(template);
        }
    }
    let mut problems = checker.problems;
    if problems.is_empty() && actions.len() != decl.actions.len() {
        // Every string compiled one by one above, so this is a gap in the checks; still
        // a clear error rather than a half-loaded integration.
        problems.push(document.at_value("", "the integration's templates do not compile", None));
    }
    if !problems.is_empty() {
        problems.sort_by_key(|d| (d.line, d.column));
        problems.dedup();
        return Err(problems);
    }
    Ok(Integration {
        file: file.to_string(),
        decl,
        actions: actions.into_iter().map(std::sync::Arc::new).collect(),
    })
}

/// The diagnostic for a document that does not have the shape of an integration.
fn shape_problem(
    document: &LocatedDocument,
    error: serde_path_to_error::Error<serde_json::Error>,
) -> Diagnostic {
    let mut pointer = String::new();
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            serde_path_to_error::Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape(key));
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = error.inner().to_string();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let hint = rest
            .split_once("expected ")
            .map(|(_, expected)| format!("expected {expected}"));
        let at = format!("{pointer}/{}", escape(key));
        return document.at_key(&at, format!("unknown key `{key}`"), hint);
    }
    let place = if pointer.is_empty() {
        String::new()
    } else {
        format!("`{}`: ", pointer.trim_start_matches('/').replace('/', "."))
    };
    document.at_value(&pointer, format!("{place}{message}"), None)
}

/// RFC 6901 escaping of one pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// snake_case: lowercase letters, digits and `_`, starting with a letter, at most 64.
pub(crate) fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    text.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

struct Checker<'a> {
    document: &'a LocatedDocument,
    expressions: &'a Expressions,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn problem(&mut self, pointer: &str, message: impl Into<String>, hint: Option<&str>) {
        let diagnostic = self
            .document
            .at_value(pointer, message, hint.map(str::to_string));
        self.problems.push(diagnostic);
    }

    fn key_problem(&mut self, pointer: &str, message: impl Into<String>, hint: Option<&str>) {
        let diagnostic = self
            .document
            .at_key(pointer, message, hint.map(str::to_string));
        self.problems.push(diagnostic);
    }

    fn integration(&mut self, file: &str, decl: &IntegrationFile) {
        if !is_name(&decl.vendor) {
            self.problem(
                "/vendor",
                format!("invalid vendor name `{}`", decl.vendor),
                Some("use lowercase letters, digits and `_`, starting with a letter"),
            );
        }
        let stem = std::path::Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !stem.is_empty() && stem != decl.vendor {
            self.problem(
                "/vendor",
                format!("the vendor is `{}` but the file is `{stem}`", decl.vendor),
                Some("name the file `<vendor>.yaml`"),
            );
        }
        for (key, text) in [("title", &decl.title), ("summary", &decl.summary)] {
            if text.trim().is_empty() {
                self.problem(&format!("/{key}"), format!("`{key}` is empty"), None);
            }
        }
        if decl.actions.is_empty() {
            self.problem("/actions", "an integration needs at least one action", None);
        }
        if let Some(url) = &decl.base_url {
            self.base_url("/base_url", url, decl.credential.as_ref());
        }
        if let Some(credential) = &decl.credential {
            self.credential("/credential", credential);
        }
        if let Some(rate) = &decl.rate_limit {
            self.rate_limit("/rate_limit", rate);
        }
        if let Some(header) = &decl.retry_after_header
            && HeaderName::from_bytes(header.as_bytes()).is_err()
        {
            self.problem(
                "/retry_after_header",
                format!("`{header}` is not a header name"),
                None,
            );
        }
        self.headers("/headers", &decl.headers);
        if let Some(errors) = &decl.errors {
            self.errors("/errors", errors);
        }
    }

    fn action(&mut self, decl: &IntegrationFile, name: &str, action: &ActionDecl, at: &str) {
        if !is_name(name) {
            self.key_problem(
                at,
                format!("invalid action name `{name}`"),
                Some("use lowercase letters, digits and `_`, starting with a letter"),
            );
        }
        if action.summary.trim().is_empty() {
            self.problem(&format!("{at}/summary"), "`summary` is empty", None);
        }
        let credential = action.credential.as_ref().or(decl.credential.as_ref());
        if let Some(url) = &action.base_url {
            self.base_url(&format!("{at}/base_url"), url, credential);
        }
        if let Some(credential) = &action.credential {
            self.credential(&format!("{at}/credential"), credential);
        }
        if let Some(rate) = &action.rate_limit {
            self.rate_limit(&format!("{at}/rate_limit"), rate);
        }
        for (input, spec) in &action.inputs {
            self.input(&format!("{at}/inputs/{}", escape(input)), input, spec);
        }
        self.request(&format!("{at}/request"), &action.request);
        if let Some(output) = &action.output {
            self.templates(&format!("{at}/output"), output);
        }
        if let Some(errors) = &action.errors {
            self.errors(&format!("{at}/errors"), errors);
        }
        for (status, rule) in &action.on_status {
            let pointer = format!("{at}/on_status/{}", escape(status));
            match status.parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => {}
                _ => self.key_problem(
                    &pointer,
                    format!("`{status}` is not an HTTP status code"),
                    Some("use a number from 100 to 599, such as `404`"),
                ),
            }
            if rule.retry_after().is_some()
                && rule.class() != super::format::StatusClass::RateLimited
            {
                self.problem(
                    &pointer,
                    "`retry_after` applies to `rate_limited` only",
                    None,
                );
            }
        }
        self.references(decl, action, at);
        if let Some(example) = &action.example
            && !example.starts_with("- id: ")
        {
            self.problem(
                &format!("{at}/example"),
                "the example must be one playbook action, starting with `- id: `",
                None,
            );
        }
    }

    fn base_url(&mut self, at: &str, text: &str, credential: Option<&CredentialDecl>) {
        let url = match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(_) => {
                self.problem(
                    at,
                    format!("`{text}`: only http and https URLs are allowed"),
                    None,
                );
                return;
            }
            Err(e) => {
                self.problem(at, format!("`{text}` is not a valid URL: {e}"), None);
                return;
            }
        };
        if url.query().is_some() || url.fragment().is_some() {
            self.problem(
                at,
                format!("`{text}`: a base URL has no query or fragment"),
                Some("put query parameters in each action's `request.query`"),
            );
        }
        if let (Some(host), Some(credential)) = (url.host_str(), credential)
            && !domain_allowed(host, &credential.allowed_domains)
        {
            self.problem(
                at,
                format!(
                    "the host `{host}` is not among the credential's allowed domains ({})",
                    credential.allowed_domains.join(", ")
                ),
                Some("add it to `credential.allowed_domains`"),
            );
        }
    }

    fn credential(&mut self, at: &str, credential: &CredentialDecl) {
        if !Secret::KINDS.contains(&credential.kind.as_str()) {
            self.problem(
                &format!("{at}/type"),
                format!("unknown credential type `{}`", credential.kind),
                Some(&format!("use one of {}", Secret::KINDS.join(", "))),
            );
        }
        if !is_name(&credential.name) {
            self.problem(
                &format!("{at}/name"),
                format!("invalid credential name `{}`", credential.name),
                Some("use lowercase letters, digits and `_`, starting with a letter"),
            );
        }
        if credential.allowed_domains.is_empty() {
            self.problem(
                &format!("{at}/allowed_domains"),
                "a credential needs at least one allowed domain",
                Some("list the hosts the secret may be sent to, such as `api.example.com`"),
            );
        }
        for (index, domain) in credential.allowed_domains.iter().enumerate() {
            if let Err(message) = check_domain_pattern(domain) {
                self.problem(
                    &format!("{at}/allowed_domains/{index}"),
                    message,
                    Some("write a host such as `api.example.com` or `*.example.com`"),
                );
            }
        }
        if credential.description.trim().is_empty() {
            self.problem(&format!("{at}/description"), "`description` is empty", None);
        }
    }

    fn rate_limit(&mut self, at: &str, text: &str) {
        if has_markup(text) {
            self.template_string(at, text);
        } else if let Err(e) = text.parse::<Rate>() {
            self.problem(at, e.to_string(), None);
        }
    }

    fn headers(&mut self, at: &str, headers: &Map<String, Value>) {
        for (name, value) in headers {
            let pointer = format!("{at}/{}", escape(name));
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.key_problem(&pointer, format!("`{name}` is not a header name"), None);
            }
            self.templates(&pointer, value);
        }
    }

    fn errors(&mut self, at: &str, errors: &super::format::ErrorsDecl) {
        if let Some(when) = &errors.when {
            let pointer = format!("{at}/when");
            if let Err(problem) = self.expressions.compile_expr(when) {
                self.problem(
                    &pointer,
                    format!("{}: {}", problem.message, problem.expression),
                    None,
                );
            }
        }
        if let Some(message) = &errors.message {
            self.template_string(&format!("{at}/message"), message);
        }
    }

    fn input(&mut self, at: &str, name: &str, input: &InputDecl) {
        if !is_name(name) {
            self.key_problem(
                at,
                format!("invalid input name `{name}`"),
                Some("use lowercase letters, digits and `_`, starting with a letter"),
            );
        }
        if COMMON_OPTIONS.contains(&name) {
            self.key_problem(
                at,
                format!("`{name}` is an option of every integration action"),
                Some("choose another name"),
            );
        }
        if input.required == Some(true) && input.default.is_some() {
            self.problem(
                &format!("{at}/required"),
                "an input with a default is not required",
                Some("remove `required: true` or the default"),
            );
        }
        let type_name = serde_json::to_value(input.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if let Some(default) = &input.default
            && !input.kind.accepts(default)
        {
            self.problem(
                &format!("{at}/default"),
                format!("the default must be of type {type_name}"),
                None,
            );
        }
        if let Some(choices) = &input.choices {
            for (index, choice) in choices.iter().enumerate() {
                if !input.kind.accepts(choice) {
                    self.problem(
                        &format!("{at}/enum/{index}"),
                        format!("this value is not of type {type_name}"),
                        None,
                    );
                }
            }
            if let Some(default) = &input.default
                && !choices.contains(default)
            {
                self.problem(
                    &format!("{at}/default"),
                    "the default is not one of `enum`",
                    None,
                );
            }
        }
        if let Some(pattern) = &input.pattern {
            if input.kind != muster_model::playbook::InputType::String {
                self.problem(
                    &format!("{at}/pattern"),
                    "`pattern` applies to string inputs",
                    None,
                );
            } else if let Err(e) = Regex::new(&anchored(pattern)) {
                self.problem(
                    &format!("{at}/pattern"),
                    format!("invalid regular expression: {e}"),
                    None,
                );
            }
        }
    }

    fn request(&mut self, at: &str, request: &RequestDecl) {
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            self.problem(
                &format!("{at}/method"),
                format!("`{}` is not an HTTP method", request.method),
                Some(&format!("use one of {}", METHODS.join(", "))),
            );
        }
        if let Some(url) = &request.url {
            if !request.path.is_empty() {
                self.problem(at, "set `url` or `path`, not both", None);
            }
            self.template_string(&format!("{at}/url"), url);
        }
        if let Some(auth) = &request.auth {
            let pointer = format!("{at}/auth");
            self.template_string(&pointer, auth);
            if !CREDENTIALS_REFERENCE.is_match(auth) {
                self.problem(
                    &pointer,
                    "`auth` names the credential to authenticate with",
                    Some("write `auth: \"{{ credentials[credential] }}\"`"),
                );
            }
        }
        if !request.path.is_empty() && !request.path.starts_with('/') {
            self.problem(
                &format!("{at}/path"),
                "the path must start with `/`",
                Some("it is appended to the base URL"),
            );
        }
        self.template_string(&format!("{at}/path"), &request.path);
        match &request.query {
            Value::Object(query) => {
                for (name, value) in query {
                    self.templates(&format!("{at}/query/{}", escape(name)), value);
                }
            }
            Value::String(text) if has_markup(text) => {
                self.template_string(&format!("{at}/query"), text)
            }
            _ => self.problem(
                &format!("{at}/query"),
                "`query` must be a mapping, or one expression that gives a mapping",
                None,
            ),
        }
        self.headers(&format!("{at}/headers"), &request.headers);
        let bodies = [
            request.json.is_some(),
            request.form.is_some(),
            request.body.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            self.problem(at, "set at most one of `json`, `form` and `body`", None);
        }
        if let Some(json) = &request.json {
            self.templates(&format!("{at}/json"), json);
        }
        if let Some(form) = &request.form {
            for (name, value) in form {
                self.templates(&format!("{at}/form/{}", escape(name)), value);
            }
        }
        if let Some(body) = &request.body {
            self.template_string(&format!("{at}/body"), body);
        }
        if let Some(mode) = &request.response
            && !matches!(mode.as_str(), "auto" | "json" | "text")
        {
            self.problem(
                &format!("{at}/response"),
                format!("`response` must be `auto`, `json` or `text`, not `{mode}`"),
                None,
            );
        }
        if let Some(paginate) = &request.paginate {
            let pointer = format!("{at}/paginate");
            match serde_json::from_value::<PaginateOptions>(paginate.clone()) {
                Ok(options) => {
                    if let Err(e) = Paginator::new(options) {
                        self.problem(&pointer, e.message, None);
                    }
                }
                Err(e) => self.problem(&pointer, format!("invalid `paginate`: {e}"), None),
            }
            if method != "GET" {
                self.problem(&pointer, "`paginate` works with GET requests only", None);
            }
        }
    }

    /// Compiles every string in `value`, one at a time, so that a problem is located at the
    /// string that holds it.
    fn templates(&mut self, at: &str, value: &Value) {
        match value {
            Value::String(text) => self.template_string(at, text),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.templates(&format!("{at}/{index}"), item);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.templates(&format!("{at}/{}", escape(key)), item);
                }
            }
            _ => {}
        }
    }

    fn template_string(&mut self, at: &str, text: &str) {
        if let Err(problems) = self.expressions.compile(&Value::String(text.to_string())) {
            for problem in problems {
                self.problem(
                    at,
                    format!("{} in `{}`", problem.message, problem.expression),
                    None,
                );
            }
        }
    }

    /// Templates may only use declared inputs, and a credential only when one is declared.
    fn references(&mut self, decl: &IntegrationFile, action: &ActionDecl, at: &str) {
        let mut texts = Vec::new();
        strings(
            &serde_json::to_value(&action.request).unwrap_or(Value::Null),
            &mut texts,
        );
        strings(&Value::Object(decl.headers.clone()), &mut texts);
        if let Some(output) = &action.output {
            strings(output, &mut texts);
        }
        let declared: BTreeSet<&str> = action.inputs.keys().map(String::as_str).collect();
        let mut unknown = BTreeSet::new();
        let mut uses_credentials = false;
        for text in texts.iter().filter(|t| has_markup(t)) {
            for captures in INPUT_REFERENCE.captures_iter(text) {
                let name = captures
                    .get(1)
                    .or_else(|| captures.get(2))
                    .map_or("", |m| m.as_str());
                if !declared.contains(name) {
                    unknown.insert(name.to_string());
                }
            }
            uses_credentials |= CREDENTIALS_REFERENCE.is_match(text);
        }
        for name in unknown {
            self.problem(
                at,
                format!("the templates use `inputs.{name}`, which is not declared"),
                Some("declare it under `inputs:` or fix the name"),
            );
        }
        let credential = action.credential.as_ref().or(decl.credential.as_ref());
        if uses_credentials && credential.is_none() {
            self.problem(
                at,
                "the templates use a credential, but the integration declares none",
                Some("add `credential:` with its type, name and allowed domains"),
            );
        }
    }
}

static INPUT_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\binputs\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]*)['"]\s*\])"#)
        .expect("a valid regular expression")
});

static CREDENTIALS_REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bcredentials\b").expect("a valid regular expression"));

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

pub(crate) fn has_markup(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// The pattern, matching the whole value.
pub(crate) fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}
