//! The `Action` behind every integration action (`virustotal.ip_report`): inputs checked,
//! the request template rendered, then the same execution path as `http_request`
//! ([`crate::http::exchange`]), then the vendor's way of saying "error" and the output shape.

use std::time::Duration;

use async_trait::async_trait;
use muster_engine::{
    Action, ActionContext, ActionError, ActionSpec, ErrorClass, Outcome, to_value,
};
use muster_model::expr::Scope;
use muster_model::{ActionDef, OptionProblem};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::COMMON_OPTIONS;
use super::format::StatusClass;
use super::template::ActionTemplate;
use crate::http::exchange::{Exchange, Prepared, check_url, exchange};
use crate::http::{HttpClient, Rate, RateKey, errors};

/// One integration action, registered under `vendor.action`.
pub struct IntegrationAction {
    pub(crate) spec: ActionSpec,
    pub(crate) template: std::sync::Arc<ActionTemplate>,
}

#[async_trait]
impl Action for IntegrationAction {
    fn spec(&self) -> &ActionSpec {
        &self.spec
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        let literal = |name: &str| match def.options.get(name) {
            Some(Value::String(text)) if !text.contains("{{") && !text.contains("{%") => {
                Some(text.as_str())
            }
            _ => None,
        };
        if let Some(url) = literal("base_url")
            && let Err(message) = base_url(url)
        {
            problems.push(OptionProblem {
                path: "base_url".into(),
                message,
                hint: None,
            });
        }
        if let Some(rate) = literal("rate_limit").filter(|r| !r.is_empty())
            && let Err(e) = rate.parse::<Rate>()
        {
            problems.push(OptionProblem {
                path: "rate_limit".into(),
                message: e.to_string(),
                hint: Some("or `\"\"` for no limit".into()),
            });
        }
        for input in &self.template.inputs {
            if let (Some(pattern), Some(value)) = (&input.pattern, literal(&input.name))
                && !pattern.is_match(value)
            {
                problems.push(OptionProblem {
                    path: input.name.clone(),
                    message: pattern_message(&input.name, value, input.decl.pattern.as_deref()),
                    hint: None,
                });
            }
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let client = ctx
            .services
            .get::<HttpClient>()
            .ok_or_else(|| ActionError::permanent("no HTTP client is configured"))?;
        let t = &*self.template;
        let credential = self.credential_name(ctx)?;
        let inputs = Value::Object(self.inputs(ctx)?);
        let base = if t.whole_url {
            None
        } else {
            Some(self.base_url(ctx)?)
        };
        let inputs_var = to_value(inputs.clone());
        let credential_var = to_value(json!(credential));
        let base_var = to_value(json!(base));
        let scope = || {
            ctx.scope()
                .with("inputs", inputs_var.clone())
                .with("credential", credential_var.clone())
                .with("base_url", base_var.clone())
        };
        let rendered = t
            .request
            .render(&scope())
            .map_err(|e| ActionError::permanent(format!("the request of `{}`: {e}", t.kind)))?;
        let options = self.request_options(ctx, base.as_deref(), rendered)?;
        let (mut prepared, _) = Prepared::new(ctx, client, options).await?;
        prepared.limit = self.rate_limit(ctx, &scope(), credential.as_deref(), &prepared)?;
        let (status, headers, response) = match exchange(ctx, client, &mut prepared).await? {
            Exchange::Parked(outcome) => return Ok(outcome),
            Exchange::Response {
                status,
                headers,
                output,
            } => (status, headers, output),
        };
        let response_var = to_value(response.clone());
        let response_scope = || scope().with("response", response_var.clone());
        let rule = t.on_status.get(&status.as_u16());
        let succeeded = match rule {
            Some(rule) => rule.class() == StatusClass::Ok,
            None => status.is_success(),
        };
        if !succeeded {
            let error = self.status_error(status, &headers, &response_scope());
            return Err(error.with_details(response));
        }
        if let Some(when) = &t.error_when {
            let failed = when.eval_bool(&response_scope()).map_err(|e| {
                ActionError::permanent(format!("`errors.when` of `{}`: {e}", t.kind))
            })?;
            if failed {
                let message = match self.vendor_message(&response_scope()) {
                    Some(words) => format!("{} answered with an error: {words}", t.vendor),
                    None => format!("{} answered with an error", t.vendor),
                };
                return Err(ActionError::permanent(message).with_details(response));
            }
        }
        let output = match &t.output {
            Some(shape) => shape.render(&response_scope()).map_err(|e| {
                ActionError::permanent(format!("the output of `{}`: {e}", t.kind))
                    .with_details(response.clone())
            })?,
            None => response,
        };
        Ok(Outcome::emit(output))
    }
}

impl IntegrationAction {
    /// The credential's name: the `credential` option, else the declared default; `None`
    /// when the integration takes none or the option is `""`.
    fn credential_name(&self, ctx: &ActionContext<'_>) -> Result<Option<String>, ActionError> {
        let Some(decl) = &self.template.credential else {
            return Ok(None);
        };
        match ctx.option("credential")? {
            None => Ok(Some(decl.name.clone())),
            Some(Value::String(name)) if name.is_empty() => Ok(None),
            Some(Value::String(name)) => Ok(Some(name)),
            Some(Value::Null) => Ok(None),
            Some(other) => Err(ActionError::permanent(format!(
                "option `credential` must be a credential name, not {other}"
            ))),
        }
    }

    /// The rendered inputs, checked against their declarations, with defaults filled in.
    /// A null value counts as not set.
    fn inputs(&self, ctx: &ActionContext<'_>) -> Result<Map<String, Value>, ActionError> {
        let mut given = ctx.options_except(&COMMON_OPTIONS)?;
        let mut out = Map::new();
        let mut problems = Vec::new();
        for input in &self.template.inputs {
            let decl = &input.decl;
            let value = match given.remove(&input.name) {
                Some(Value::Null) | None => match &decl.default {
                    Some(default) => default.clone(),
                    None if decl.is_required() => {
                        problems.push(format!("missing required option `{}`", input.name));
                        continue;
                    }
                    None => continue,
                },
                // Identifiers rendered from numbers (a Jira issue id, a dedup key) are text.
                Some(value @ (Value::Number(_) | Value::Bool(_)))
                    if decl.kind == muster_model::playbook::InputType::String =>
                {
                    Value::String(value.to_string())
                }
                Some(value) => value,
            };
            let type_name = serde_json::to_value(decl.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if !decl.kind.accepts(&value) {
                problems.push(format!(
                    "option `{}` must be of type {type_name}, got {}",
                    input.name,
                    preview(&value)
                ));
                continue;
            }
            if let Some(choices) = &decl.choices
                && !choices.contains(&value)
            {
                let listed: Vec<String> = choices.iter().map(Value::to_string).collect();
                problems.push(format!(
                    "option `{}` must be one of {}, got {}",
                    input.name,
                    listed.join(", "),
                    preview(&value)
                ));
                continue;
            }
            if let (Some(pattern), Some(text)) = (&input.pattern, value.as_str())
                && !pattern.is_match(text)
            {
                problems.push(pattern_message(&input.name, text, decl.pattern.as_deref()));
                continue;
            }
            out.insert(input.name.clone(), value);
        }
        if let Some(name) = given.keys().next() {
            problems.push(format!("unknown option `{name}`"));
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(ActionError::permanent(problems.join("; ")))
        }
    }

    /// `http_request`'s options for the rendered request template: the URL from the base URL
    /// and the path (or the template's whole URL), nulls left out.
    fn request_options(
        &self,
        ctx: &ActionContext<'_>,
        base: Option<&str>,
        rendered: Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let t = &*self.template;
        let Value::Object(mut parts) = rendered else {
            return Err(ActionError::permanent(
                "the request template is not a mapping",
            ));
        };
        let path = match parts.remove("path") {
            Some(Value::String(path)) => path,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let url = match (parts.remove("url"), base) {
            // Checked once its credential references are revealed, like `http_request`'s.
            (Some(url), None) => url,
            (_, Some(base)) => Value::String(join(base, &path).map_err(ActionError::permanent)?),
            (None, None) => return Err(ActionError::permanent("the request has no URL")),
        };
        let mut options = Map::new();
        options.insert("method".into(), Value::String(t.method.clone()));
        options.insert("url".into(), url);
        for name in ["query", "headers", "form"] {
            match parts.remove(name) {
                Some(Value::Object(map)) => {
                    let kept: Map<String, Value> =
                        map.into_iter().filter(|(_, v)| !v.is_null()).collect();
                    options.insert(name.into(), Value::Object(kept));
                }
                Some(Value::Null) | None => {}
                Some(other) => {
                    return Err(ActionError::permanent(format!(
                        "the request's `{name}` must be a mapping, not {}",
                        preview(&other)
                    )));
                }
            }
        }
        if let (Some(template), Some(json)) = (&t.json, parts.get_mut("json")) {
            prune_nulls(template, json);
        }
        for name in ["json", "body", "auth"] {
            match parts.remove(name) {
                Some(Value::Null) | None => {}
                Some(value) => {
                    options.insert(name.into(), value);
                }
            }
        }
        if let Some(timeout) = ctx.option("timeout")? {
            options.insert("timeout".into(), timeout);
        }
        if let Some(mode) = &t.response {
            options.insert("response".into(), Value::String(mode.clone()));
        }
        if let Some(paginate) = &t.paginate {
            options.insert("paginate".into(), paginate.clone());
        }
        Ok(options)
    }

    /// The `base_url` option, else the declared one.
    fn base_url(&self, ctx: &ActionContext<'_>) -> Result<String, ActionError> {
        let t = &*self.template;
        match ctx.option("base_url")? {
            Some(Value::String(url)) if !url.is_empty() => Ok(url),
            Some(Value::Null) | None => t.base_url.clone().ok_or_else(|| {
                ActionError::permanent(format!(
                    "`{}` has no default base URL: set the option `base_url`",
                    t.kind
                ))
            }),
            Some(other) => Err(ActionError::permanent(format!(
                "option `base_url` must be a URL, not {other}"
            ))),
        }
    }

    /// The budget the request counts against: the `rate_limit` option (`""` for none), else
    /// the declared one; per credential, or per host without one.
    fn rate_limit(
        &self,
        ctx: &ActionContext<'_>,
        scope: &Scope<'_>,
        credential: Option<&str>,
        prepared: &Prepared,
    ) -> Result<Option<(RateKey, Rate)>, ActionError> {
        let text = match ctx.option("rate_limit")? {
            Some(Value::String(text)) => text,
            Some(Value::Null) => return Ok(None),
            Some(other) => other.to_string(),
            None => match &self.template.rate_limit {
                None => return Ok(None),
                Some(compiled) => match compiled.render(scope) {
                    Ok(Value::String(text)) => text,
                    Ok(Value::Null) => return Ok(None),
                    Ok(other) => other.to_string(),
                    Err(e) => {
                        return Err(ActionError::permanent(format!(
                            "the rate limit of `{}`: {e}",
                            self.template.kind
                        )));
                    }
                },
            },
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let rate = text
            .parse::<Rate>()
            .map_err(|e| ActionError::permanent(format!("option `rate_limit`: {e}")))?;
        let key = match credential {
            Some(name) => RateKey::credential(name),
            None => RateKey::host(prepared.request.url.host_str().unwrap_or_default()),
        };
        Ok(Some((key, rate)))
    }

    /// The error for a response that is not a success: the declared class and message for
    /// its status, else `http_request`'s classification; the vendor's words appended.
    fn status_error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        scope: &Scope<'_>,
    ) -> ActionError {
        let t = &*self.template;
        let mut error = errors::status_error(status, headers);
        if let ErrorClass::RateLimited { retry_after: None } = error.class
            && let Some(seconds) = t
                .retry_after_header
                .as_ref()
                .and_then(|name| headers.get(name))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
        {
            let wait = Duration::from_secs_f64(seconds.ceil()).min(errors::MAX_RETRY_AFTER);
            error.class = ErrorClass::RateLimited {
                retry_after: Some(wait),
            };
        }
        if let Some(rule) = t.on_status.get(&status.as_u16()) {
            if let Some(message) = rule.message() {
                error.message = message.to_string();
            }
            error.class = match rule.class() {
                StatusClass::Transient => ErrorClass::Transient,
                StatusClass::Permanent => ErrorClass::Permanent,
                StatusClass::RateLimited => ErrorClass::RateLimited {
                    retry_after: errors::retry_after(headers)
                        .or(match error.class {
                            ErrorClass::RateLimited { retry_after } => retry_after,
                            _ => None,
                        })
                        .or(rule.retry_after().map(|d| d.as_duration())),
                },
                StatusClass::Ok => error.class,
            };
        }
        if let Some(words) = self.vendor_message(scope) {
            error.message = format!("{}: {words}", error.message);
        }
        error
    }

    /// The vendor's own words for an error, if the template finds any.
    fn vendor_message(&self, scope: &Scope<'_>) -> Option<String> {
        let rendered = self.template.error_message.as_ref()?.render(scope).ok()?;
        let text = match rendered {
            Value::Null => return None,
            Value::String(text) => text,
            other => other.to_string(),
        };
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let mut short: String = text.chars().take(300).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        Some(short)
    }
}

/// Leaves out the members of `json` whose expression gave null (`"{{ inputs.x or none }}"`),
/// so that optional fields are not sent; nulls written as such, or inside a value an
/// expression built, stay.
fn prune_nulls(template: &Value, rendered: &mut Value) {
    match (template, rendered) {
        (Value::Object(template), Value::Object(rendered)) => {
            for (key, part) in template {
                match part {
                    Value::String(text) if super::load::has_markup(text) => {
                        if rendered.get(key).is_some_and(Value::is_null) {
                            rendered.remove(key);
                        }
                    }
                    _ => {
                        if let Some(value) = rendered.get_mut(key) {
                            prune_nulls(part, value);
                        }
                    }
                }
            }
        }
        (Value::Array(template), Value::Array(rendered)) => {
            for (part, value) in template.iter().zip(rendered.iter_mut()) {
                prune_nulls(part, value);
            }
        }
        _ => {}
    }
}

/// A base URL as given in an option: http or https, no query or fragment.
pub(crate) fn base_url(text: &str) -> Result<url::Url, String> {
    let url = check_url(text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}`: a base URL has no query or fragment"));
    }
    Ok(url)
}

/// The URL of `path` below `base`. The path is kept a path: `?` and `#` in it are
/// percent-encoded rather than starting a query, and `.` and `..` segments (which would
/// climb out of the API's path) are refused.
pub(crate) fn join(base: &str, path: &str) -> Result<String, String> {
    let mut url = base_url(base)?;
    for segment in path.split('/') {
        let decoded = percent_decode(segment);
        if decoded == "." || decoded == ".." {
            return Err(format!(
                "the request path `{path}` has a `{decoded}` segment; an input may not climb \
                 out of the API's path"
            ));
        }
    }
    let joined = format!("{}{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    Ok(url.to_string())
}

/// `%XX` sequences decoded (as the URL parser reads dot segments: `%2e` is `.`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pattern_message(name: &str, value: &str, pattern: Option<&str>) -> String {
    format!(
        "option `{name}` does not look right: {} does not match `{}`",
        preview(&Value::String(value.to_string())),
        pattern.unwrap_or_default()
    )
}

fn preview(value: &Value) -> String {
    let text = value.to_string();
    let mut short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_stays_below_the_base_url() {
        let base = "https://api.example.com/api/v3/";
        assert_eq!(
            join(base, "/ip_addresses/203.0.113.7").unwrap(),
            "https://api.example.com/api/v3/ip_addresses/203.0.113.7"
        );
        // A `?` or `#` from an input does not start a query or a fragment.
        assert_eq!(
            join(base, "/files/x?admin=1#y").unwrap(),
            "https://api.example.com/api/v3/files/x%3Fadmin=1%23y"
        );
        for climbing in ["/files/../users", "/files/%2e%2E/users", "/a/./b", "/.."] {
            let error = join(base, climbing).unwrap_err();
            assert!(error.contains("climb out"), "{climbing}: {error}");
        }
        assert_eq!(join(base, "").unwrap(), "https://api.example.com/api/v3");
        assert!(join("ftp://example.com", "/x").is_err());
        assert!(join("https://example.com/?q=1", "/x").is_err());
    }

    #[test]
    fn nulls_from_expressions_are_left_out_of_json_bodies() {
        let template = json!({
            "text": "{{ inputs.text }}",
            "thread_ts": "{{ inputs.thread or none }}",
            "contentUrl": null,
            "payload": {"class": "{{ inputs.class or none }}", "details": "{{ inputs.details }}"},
            "attachments": [{"content": "{{ inputs.card or none }}", "kind": "card"}]
        });
        let mut rendered = json!({
            "text": "hi",
            "thread_ts": null,
            "contentUrl": null,
            "payload": {"class": null, "details": {"a": null}},
            "attachments": [{"content": null, "kind": "card"}]
        });
        prune_nulls(&template, &mut rendered);
        assert_eq!(
            rendered,
            json!({
                "text": "hi",
                "contentUrl": null,
                "payload": {"details": {"a": null}},
                "attachments": [{"kind": "card"}]
            })
        );
    }
}
