//! `muster integrations list|describe`: the vendor integrations this installation has (built
//! in, and from the operator's integrations directory), what their actions take, and which
//! credential to create for them.

use std::process::ExitCode;

use anyhow::{Result, bail};
use muster_actions::integrations::format::{ActionDecl, CredentialDecl, StatusDecl};
use muster_actions::integrations::{Integration, spec};
use serde_json::{Map, Value, json};

use super::LibraryArgs;

#[derive(clap::Subcommand)]
pub enum IntegrationsCommand {
    /// List the integrations: vendor, actions, credential type.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        library: LibraryArgs,
    },
    /// Describe a vendor (`virustotal`) or one of its actions (`virustotal.ip_report`):
    /// inputs, credential, allowed domains, rate limit, example.
    Describe {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        library: LibraryArgs,
    },
}

pub fn run(command: IntegrationsCommand) -> Result<ExitCode> {
    match command {
        IntegrationsCommand::List { json, library } => {
            let library = library.library()?;
            let integrations: Vec<&Integration> = library.iter().map(|i| &**i).collect();
            if json {
                let list: Vec<Value> = integrations.iter().map(|i| summary_json(i)).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print_list(&integrations);
            }
        }
        IntegrationsCommand::Describe {
            name,
            json,
            library,
        } => {
            let library = library.library()?;
            let (vendor, action) = match name.split_once('.') {
                Some((vendor, action)) => (vendor, Some(action)),
                None => (name.as_str(), None),
            };
            let Some(integration) = library.get(vendor) else {
                let known: Vec<&str> = library.iter().map(|i| i.vendor()).collect();
                bail!(
                    "unknown integration `{vendor}` (known: {})",
                    known.join(", ")
                );
            };
            match action {
                None if json => {
                    let doc = vendor_json(integration);
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                }
                None => print_vendor(integration),
                Some(action) => {
                    let Some(decl) = integration.decl.actions.get(action) else {
                        let known: Vec<String> = integration.action_kinds();
                        bail!(
                            "`{vendor}` has no action `{action}` (it has: {})",
                            known.join(", ")
                        );
                    };
                    if json {
                        let doc = action_json(integration, action, decl);
                        println!("{}", serde_json::to_string_pretty(&doc)?);
                    } else {
                        print_action(integration, action, decl);
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(integrations: &[&Integration]) {
    let rows: Vec<[String; 3]> = integrations
        .iter()
        .map(|i| {
            let actions: Vec<&str> = i.decl.actions.keys().map(String::as_str).collect();
            let credential = match &i.decl.credential {
                Some(c) => format!("{} ({})", c.kind, c.name),
                None => "none".to_string(),
            };
            [i.vendor().to_string(), actions.join(", "), credential]
        })
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|r| r[column].chars().count())
            .chain(std::iter::once(["VENDOR", "ACTIONS"][column].len()))
            .max()
            .unwrap_or(0)
    };
    let (vendor, actions) = (width(0), width(1));
    println!("{:vendor$}  {:actions$}  CREDENTIAL", "VENDOR", "ACTIONS");
    for [v, a, c] in rows {
        println!("{v:vendor$}  {a:actions$}  {c}");
    }
}

fn credential_json(credential: Option<&CredentialDecl>) -> Value {
    match credential {
        Some(c) => json!({
            "type": c.kind,
            "name": c.name,
            "allowed_domains": c.allowed_domains,
            "description": c.description.trim(),
        }),
        None => Value::Null,
    }
}

fn summary_json(integration: &Integration) -> Value {
    let decl = &integration.decl;
    json!({
        "vendor": decl.vendor,
        "title": decl.title,
        "summary": decl.summary,
        "actions": integration.action_kinds(),
        "credential": credential_json(decl.credential.as_ref()),
        "file": integration.file,
    })
}

fn vendor_json(integration: &Integration) -> Value {
    let decl = &integration.decl;
    let actions: Vec<Value> = decl
        .actions
        .iter()
        .map(|(name, action)| json!({"type": format!("{}.{name}", decl.vendor), "summary": action.summary}))
        .collect();
    json!({
        "vendor": decl.vendor,
        "title": decl.title,
        "summary": decl.summary,
        "docs": decl.docs,
        "file": integration.file,
        "base_url": decl.base_url,
        "credential": credential_json(decl.credential.as_ref()),
        "rate_limit": decl.rate_limit,
        "actions": actions,
    })
}

/// The command that creates the credential, for the reader to complete.
fn create_command(credential: &CredentialDecl) -> String {
    let value = match credential.kind.as_str() {
        "text" => "--value -".to_string(),
        "basic" => "--field username=USER --field password=-".to_string(),
        _ => "--value-file FILE".to_string(),
    };
    let domains: Vec<String> = credential
        .allowed_domains
        .iter()
        .map(|d| {
            if d.contains('*') {
                format!("--allowed-domain '{d}'")
            } else {
                format!("--allowed-domain {d}")
            }
        })
        .collect();
    format!(
        "muster credential set {} --type {} {value} {}",
        credential.name,
        credential.kind,
        domains.join(" ")
    )
}

fn print_credential(credential: Option<&CredentialDecl>) {
    match credential {
        Some(c) => {
            println!(
                "Credential:  a `{}` credential, by default `{}` (option `credential`)",
                c.kind, c.name
            );
            println!(
                "             allowed domains: {}",
                c.allowed_domains.join(", ")
            );
            println!("             {}", c.description.trim());
            println!("             create it: {}", create_command(c));
        }
        None => println!("Credential:  none"),
    }
}

fn print_vendor(integration: &Integration) {
    let decl = &integration.decl;
    println!("{} ({}): {}", decl.title, decl.vendor, decl.summary);
    println!();
    println!("File:        {}", integration.file);
    if let Some(docs) = &decl.docs {
        println!("API docs:    {docs}");
    }
    match &decl.base_url {
        Some(url) => println!("Base URL:    {url} (option `base_url`)"),
        None => println!("Base URL:    none; set the option `base_url` to your server's URL"),
    }
    print_credential(decl.credential.as_ref());
    match &decl.rate_limit {
        Some(rate) => println!("Rate limit:  {rate} per credential (option `rate_limit`)"),
        None => println!("Rate limit:  none"),
    }
    println!();
    println!("Actions:");
    let width = decl
        .actions
        .keys()
        .map(|n| decl.vendor.len() + 1 + n.len())
        .max()
        .unwrap_or(0);
    for (name, action) in &decl.actions {
        let kind = format!("{}.{name}", decl.vendor);
        println!("  {kind:width$}  {}", action.summary);
    }
}

/// What a status means, as written.
fn status_text(rule: &StatusDecl) -> String {
    let class = serde_json::to_value(rule.class())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match rule.message() {
        Some(message) => format!("{class} ({message})"),
        None => class,
    }
}

fn request_line(integration: &Integration, action: &ActionDecl) -> String {
    let method = action.request.method.to_ascii_uppercase();
    if action.request.url.is_some() {
        return format!("{method} to the URL kept in the credential");
    }
    let base = action
        .base_url
        .as_deref()
        .or(integration.decl.base_url.as_deref())
        .unwrap_or("<base_url>");
    format!("{method} {base}{}", action.request.path)
}

fn action_json(integration: &Integration, name: &str, action: &ActionDecl) -> Value {
    let decl = &integration.decl;
    let spec = spec::action_spec(decl, name, action);
    let inputs: Map<String, Value> = action
        .inputs
        .iter()
        .map(|(input, d)| {
            (
                input.clone(),
                json!({
                    "type": d.kind,
                    "required": d.is_required(),
                    "default": d.default,
                    "description": d.description.trim(),
                    "enum": d.choices,
                    "pattern": d.pattern,
                }),
            )
        })
        .collect();
    let on_status: Map<String, Value> = action
        .on_status
        .iter()
        .map(|(status, rule)| (status.clone(), json!(status_text(rule))))
        .collect();
    let output = match &action.output {
        Some(Value::Object(shape)) => json!(shape.keys().collect::<Vec<_>>()),
        Some(_) => json!("computed"),
        None => json!(["status", "headers", "body"]),
    };
    json!({
        "type": spec.kind,
        "vendor": decl.vendor,
        "summary": spec.summary,
        "description": action.description,
        "request": request_line(integration, action),
        "side_effects": spec.side_effects,
        "credential": credential_json(action.credential.as_ref().or(decl.credential.as_ref())),
        "rate_limit": action.rate_limit.as_ref().or(decl.rate_limit.as_ref()),
        "inputs": inputs,
        "on_status": on_status,
        "output": output,
        "options": spec.options,
        "example": spec.example,
    })
}

fn print_action(integration: &Integration, name: &str, action: &ActionDecl) {
    let decl = &integration.decl;
    let spec = spec::action_spec(decl, name, action);
    println!("{}: {}", spec.kind, spec.summary);
    if let Some(description) = &action.description {
        println!("\n{}", description.trim());
    }
    println!();
    println!("Request:     {}", request_line(integration, action));
    print_credential(action.credential.as_ref().or(decl.credential.as_ref()));
    match action.rate_limit.as_ref().or(decl.rate_limit.as_ref()) {
        Some(rate) => println!("Rate limit:  {rate} (option `rate_limit`)"),
        None => println!("Rate limit:  none"),
    }
    for (status, rule) in &action.on_status {
        println!("Status {status}:  {}", status_text(rule));
    }
    println!();
    println!("Inputs:");
    let width = action.inputs.keys().map(String::len).max().unwrap_or(0);
    for (input, d) in &action.inputs {
        let kind = serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let need = match &d.default {
            _ if d.is_required() => "required".to_string(),
            Some(default) => format!("default {default}"),
            None => "optional".to_string(),
        };
        println!("  {input:width$}  {kind}, {need}: {}", d.description.trim());
        if let Some(choices) = &d.choices {
            let listed: Vec<String> = choices.iter().map(Value::to_string).collect();
            println!("  {:width$}  one of {}", "", listed.join(", "));
        }
    }
    let common = if action.request.url.is_some() {
        "credential, rate_limit, timeout"
    } else {
        "credential, base_url, rate_limit, timeout"
    };
    println!("  (and the options every integration action has: {common})");
    println!();
    match &action.output {
        Some(Value::Object(shape)) => {
            let keys: Vec<&str> = shape.keys().map(String::as_str).collect();
            println!("Output:      {}", keys.join(", "));
        }
        Some(_) => println!("Output:      computed from the response"),
        None => println!("Output:      the response: status, headers, body"),
    }
    println!();
    println!("Example:\n{}", spec.example);
}
