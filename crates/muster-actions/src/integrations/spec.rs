//! The self-description of an integration action (`muster actions describe
//! virustotal.ip_report`), generated from its declaration: the description with the request,
//! credential and rate limit spelled out, the options schema from the declared inputs plus
//! the options every integration action has, and an example.

use std::fmt::Write;

use muster_engine::ActionSpec;
use serde_json::{Map, Value, json};

use super::format::{ActionDecl, IntegrationFile, StatusDecl};

/// The spec of action `name` of `decl`.
pub fn action_spec(decl: &IntegrationFile, name: &str, action: &ActionDecl) -> ActionSpec {
    let kind = format!("{}.{name}", decl.vendor);
    ActionSpec {
        summary: action.summary.clone().into(),
        description: description(decl, action).into(),
        trigger: false,
        ports: &[],
        options: options_schema(decl, action),
        example: action
            .example
            .clone()
            .unwrap_or_else(|| generated_example(decl, name, action))
            .into(),
        side_effects: !matches!(
            action.request.method.to_ascii_uppercase().as_str(),
            "GET" | "HEAD" | "OPTIONS"
        ),
        inline: false,
        kind: kind.into(),
    }
}

fn description(decl: &IntegrationFile, action: &ActionDecl) -> String {
    let mut out = String::new();
    if let Some(text) = &action.description {
        out.push_str(text.trim_end());
        out.push_str("\n\n");
    }
    let base = action.base_url.as_deref().or(decl.base_url.as_deref());
    let method = action.request.method.to_ascii_uppercase();
    let _ = write!(
        out,
        "Integration **{}** (`integrations/{}.yaml`). ",
        decl.title, decl.vendor
    );
    match (&action.request.url, base) {
        (Some(_), _) => {
            let _ = write!(
                out,
                "Request: `{method}` to the URL kept in the credential."
            );
        }
        (None, Some(base)) => {
            let _ = write!(
                out,
                "Request: `{method} {base}{}` (the option `base_url` replaces the base URL).",
                action.request.path
            );
        }
        (None, None) => {
            let _ = write!(
                out,
                "Request: `{method} <base_url>{}` (set the option `base_url` to your server's \
                 URL).",
                action.request.path
            );
        }
    }
    match action.credential.as_ref().or(decl.credential.as_ref()) {
        Some(credential) => {
            let _ = write!(
                out,
                " Credential: a `{}` credential, by default the one named `{}` (option \
                 `credential`), allowed for {}: {}",
                credential.kind,
                credential.name,
                quoted_list(&credential.allowed_domains),
                credential.description.trim()
            );
            if !credential.description.trim_end().ends_with('.') {
                out.push('.');
            }
        }
        None => out.push_str(" No credential."),
    }
    match action.rate_limit.as_ref().or(decl.rate_limit.as_ref()) {
        Some(rate) => {
            let per = if action.credential.is_some() || decl.credential.is_some() {
                "per credential"
            } else {
                "per host"
            };
            let _ = write!(
                out,
                " Rate limit: `{rate}` {per}; a request over it waits (option `rate_limit`, \
                 `\"\"` for none)."
            );
        }
        None => out.push_str(" No rate limit unless the option `rate_limit` sets one."),
    }
    if !action.on_status.is_empty() {
        let rules: Vec<String> = action
            .on_status
            .iter()
            .map(|(status, rule)| format!("{status} → {}", status_rule(rule)))
            .collect();
        let _ = write!(out, " Statuses: {}.", rules.join(", "));
    }
    out.push_str("\n\nOutput: ");
    match &action.output {
        Some(Value::Object(shape)) => {
            let keys: Vec<String> = shape.keys().map(|k| format!("`{k}`")).collect();
            let _ = write!(out, "an object with {}.", keys.join(", "));
        }
        Some(_) => out.push_str("computed from the response (see the integration file)."),
        None => out.push_str("the response, `{status, headers, body}`."),
    }
    out
}

fn status_rule(rule: &StatusDecl) -> String {
    let class = serde_json::to_value(rule.class())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match rule.message() {
        Some(message) => format!("{class} ({message})"),
        None => class,
    }
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON Schema of the options: the declared inputs, then `credential`, `base_url`,
/// `rate_limit` and `timeout`.
pub fn options_schema(decl: &IntegrationFile, action: &ActionDecl) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, input) in &action.inputs {
        let mut property = Map::new();
        if let Ok(Value::String(kind)) = serde_json::to_value(input.kind)
            && kind != "any"
        {
            property.insert("type".into(), Value::String(kind));
        }
        property.insert("description".into(), json!(input.description.trim()));
        if let Some(default) = &input.default {
            property.insert("default".into(), default.clone());
        }
        if let Some(choices) = &input.choices {
            property.insert("enum".into(), Value::Array(choices.clone()));
        }
        if let Some(pattern) = &input.pattern {
            property.insert("pattern".into(), json!(format!("^(?:{pattern})$")));
        }
        if input.is_required() {
            required.push(json!(name));
        }
        properties.insert(name.clone(), Value::Object(property));
    }
    if let Some(credential) = action.credential.as_ref().or(decl.credential.as_ref()) {
        properties.insert(
            "credential".into(),
            json!({
                "type": "string",
                "description": format!(
                    "The credential to send (default `{}`): a `{}` credential allowed for {}.",
                    credential.name,
                    credential.kind,
                    quoted_list(&credential.allowed_domains)
                ),
            }),
        );
    }
    let base = action.base_url.as_ref().or(decl.base_url.as_ref());
    // An action whose template gives the whole URL (a webhook) has no base URL to replace.
    if action.request.url.is_none() {
        properties.insert(
            "base_url".into(),
            json!({
                "type": "string",
                "description": match base {
                    Some(url) => format!(
                        "Replaces the base URL `{url}` (a proxy, an on-premises server, a test \
                         server)."
                    ),
                    None => {
                        "The base URL of your server, such as `https://example.com`.".to_string()
                    }
                },
            }),
        );
        if base.is_none() {
            required.push(json!("base_url"));
        }
    }
    let rate = action.rate_limit.as_ref().or(decl.rate_limit.as_ref());
    properties.insert(
        "rate_limit".into(),
        json!({
            "type": "string",
            "description": match rate {
                Some(rate) => format!(
                    "Replaces the rate limit `{rate}`, as `N/period` (`\"\"` for none)."
                ),
                None => "At most this many requests per period, as `N/period` (`10/1s`); \
                         requests over it wait."
                    .to_string(),
            },
        }),
    );
    properties.insert(
        "timeout".into(),
        json!({
            "type": ["string", "integer"],
            "description": "Time allowed for the whole request, redirects and body included \
                            (default: the client's, 30s).",
        }),
    );
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// `- id: <action>` with the required inputs set to their examples (or defaults).
fn generated_example(decl: &IntegrationFile, name: &str, action: &ActionDecl) -> String {
    let mut out = format!("- id: {name}\n  type: {}.{name}\n", decl.vendor);
    let mut options = Vec::new();
    for (input, spec) in &action.inputs {
        let value = spec.example.as_ref().or(spec.default.as_ref());
        match value {
            Some(value) if spec.is_required() || spec.example.is_some() => {
                options.push(format!("    {input}: {value}"));
            }
            None if spec.is_required() => {
                options.push(format!("    {input}: {}", placeholder(spec)))
            }
            _ => {}
        }
    }
    if action.base_url.is_none() && decl.base_url.is_none() && action.request.url.is_none() {
        options.push("    base_url: https://example.com".to_string());
    }
    if !options.is_empty() {
        out.push_str("  options:\n");
        for line in options {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn placeholder(spec: &super::format::InputDecl) -> &'static str {
    use muster_model::playbook::InputType;
    match spec.kind {
        InputType::String | InputType::Any => "\"...\"",
        InputType::Number | InputType::Integer => "1",
        InputType::Boolean => "true",
        InputType::Object => "{}",
        InputType::Array => "[]",
    }
}
