//! `muster credential set|list|delete|rotate`, against a running server.
//!
//! Secrets are read from standard input (`--value -`, `--field KEY=-`) or a file
//! (`--value-file FILE`, `--field KEY=@FILE`) so that they stay out of shell history and the
//! process list; `--value VALUE` exists for scripts that already hold the value safely. Nothing
//! here ever prints a value: the server never returns one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use muster_engine::Secret;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::path_segment;
use crate::ServerArgs;
use crate::client::ApiClient;

/// Where a credential's value comes from.
#[derive(clap::Args)]
pub struct ValueArgs {
    /// The value; `-` reads it from standard input. A value written here lands in the shell's
    /// history and the process list: prefer `-` or `--value-file`. For types other than `text`
    /// and `header`, a JSON object of the type's fields.
    #[arg(long, allow_hyphen_values = true, conflicts_with = "value_file")]
    value: Option<String>,
    /// Read the value from this file (one trailing newline is dropped).
    #[arg(long, value_name = "FILE")]
    value_file: Option<PathBuf>,
    /// One field of the type as `KEY=VALUE` (`username=svc`); `KEY=-` reads the field from
    /// standard input, `KEY=@FILE` from a file. Repeatable.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
}

#[derive(clap::Subcommand)]
pub enum CredentialCommand {
    /// Create or replace a credential.
    ///
    /// Examples:
    ///   printf %s "$VT_KEY" | muster credential set virustotal --type text --value - --allowed-domain www.virustotal.com
    ///   muster credential set jira --type basic --field username=svc-muster --field password=- --allowed-domain '*.atlassian.net'
    ///   muster credential set abuseipdb --type header --field name=Key --value-file key.txt --allowed-domain api.abuseipdb.com
    #[command(verbatim_doc_comment)]
    Set {
        name: String,
        /// text, basic, header, oauth2_client_credentials, http_token or jwt.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        #[command(flatten)]
        value: ValueArgs,
        /// A host the value may be sent to (`api.example.com`, `*.example.com`, an IP
        /// address). Repeatable; at least one.
        #[arg(long = "allowed-domain", value_name = "DOMAIN", required = true)]
        allowed_domains: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List credentials (never their values).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a credential.
    Delete {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Replace a credential's value, keeping its allowed domains and description.
    Rotate {
        name: String,
        /// A new type (default: the current one).
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        #[command(flatten)]
        value: ValueArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: CredentialCommand) -> Result<ExitCode> {
    match command {
        CredentialCommand::Set {
            name,
            kind,
            value,
            allowed_domains,
            description,
            server,
        } => {
            let fields = value.fields(&kind)?;
            let client = ApiClient::new(&server)?;
            let mut body = json!({
                "name": name,
                "type": kind,
                "value": fields,
                "allowed_domains": allowed_domains,
            });
            if let Some(description) = description {
                body["description"] = Value::String(description);
            }
            let (status, info) = client
                .call_json(Method::POST, "/api/v1/credentials", Some(&body))
                .await?;
            let what = if status == StatusCode::CREATED {
                "created"
            } else {
                "replaced"
            };
            println!("{what} credential {}", describe(&info));
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::List { json, server } => {
            let client = ApiClient::new(&server)?;
            let doc = client.get_json("/api/v1/credentials", &[]).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<32} {:<26} {:<24} ALLOWED DOMAINS",
                "NAME", "TYPE", "UPDATED"
            );
            for item in doc["items"].as_array().into_iter().flatten() {
                println!(
                    "{:<32} {:<26} {:<24} {}",
                    item["name"].as_str().unwrap_or("?"),
                    item["type"].as_str().unwrap_or("?"),
                    item["updated_at"].as_str().unwrap_or("?"),
                    domains(item)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::Delete { name, server } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/credentials/{}", path_segment(&name));
            client.call_json(Method::DELETE, &path, None).await?;
            println!("deleted credential {name}");
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::Rotate {
            name,
            kind,
            value,
            server,
        } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/credentials/{}", path_segment(&name));
            let kind = match kind {
                Some(kind) => kind,
                None => {
                    let (_, current) = client.call_json(Method::GET, &path, None).await?;
                    current["type"].as_str().unwrap_or("text").to_string()
                }
            };
            let body = json!({"type": kind, "value": value.fields(&kind)?});
            let (_, info) = client
                .call_json(Method::POST, &format!("{path}/rotate"), Some(&body))
                .await?;
            println!("rotated credential {}", describe(&info));
            Ok(ExitCode::SUCCESS)
        }
    }
}

impl ValueArgs {
    /// The value as an object of the type's fields.
    fn fields(&self, kind: &str) -> Result<Map<String, Value>> {
        let mut stdin_used = false;
        let mut fields = Map::new();
        let main = match (&self.value, &self.value_file) {
            (Some(value), _) if value == "-" => Some(read_stdin(&mut stdin_used, "--value -")?),
            (Some(value), _) => Some(value.clone()),
            (None, Some(file)) => Some(read_file(file)?),
            (None, None) => None,
        };
        if let Some(main) = main {
            // An unknown type is left for the server to name.
            if matches!(kind, "text" | "header") || !Secret::KINDS.contains(&kind) {
                fields.insert("value".into(), Value::String(main));
            } else {
                match serde_json::from_str(&main) {
                    Ok(Value::Object(object)) => fields.extend(object),
                    _ => bail!(
                        "the value of a `{kind}` credential is a JSON object of its fields \
                         (for `basic`: {{\"username\": …, \"password\": …}}); or give each \
                         field with --field KEY=VALUE"
                    ),
                }
            }
        }
        for field in &self.fields {
            let Some((key, value)) = field.split_once('=') else {
                // The argument is not shown: it may be the value itself.
                bail!("--field takes KEY=VALUE, KEY=- or KEY=@FILE");
            };
            let value = if value == "-" {
                read_stdin(&mut stdin_used, &format!("--field {key}=-"))?
            } else if let Some(file) = value.strip_prefix('@') {
                read_file(Path::new(file))?
            } else {
                value.to_string()
            };
            if fields
                .insert(key.to_string(), Value::String(value))
                .is_some()
            {
                bail!("the field `{key}` is given twice");
            }
        }
        if fields.is_empty() {
            bail!(
                "no value given: use --value - (standard input), --value-file FILE or \
                 --field KEY=VALUE"
            );
        }
        Ok(fields)
    }
}

fn read_stdin(used: &mut bool, what: &str) -> Result<String> {
    if std::mem::replace(used, true) {
        bail!("standard input can give only one value ({what} is the second)");
    }
    let text = super::read_input(Path::new("-"))?;
    Ok(without_final_newline(text))
}

fn read_file(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the value from {}", path.display()))?;
    Ok(without_final_newline(text))
}

/// A value piped with `echo` or saved by an editor ends with a newline that is not part of it.
fn without_final_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

fn domains(info: &Value) -> String {
    info["allowed_domains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(info: &Value) -> String {
    format!(
        "{} ({}; allowed domains: {})",
        info["name"].as_str().unwrap_or("?"),
        info["type"].as_str().unwrap_or("?"),
        domains(info)
    )
}
