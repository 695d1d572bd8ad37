//! `muster resource set|get|list|delete`, against a running server: named non-secret values
//! that playbooks read as `{{ resources.NAME }}`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::path_segment;
use crate::ServerArgs;
use crate::client::ApiClient;

#[derive(clap::Subcommand)]
pub enum ResourceCommand {
    /// Create or replace a resource.
    ///
    /// Examples:
    ///   muster resource set blocklist '["203.0.113.7", "198.51.100.9"]'
    ///   muster resource set oncall soc@example.com
    ///   muster resource set escalation @escalation.json --description "who to page"
    #[command(verbatim_doc_comment)]
    Set {
        name: String,
        /// JSON (`5`, `["a", "b"]`, `{"team": "soc"}`); text that is not JSON is a string.
        /// `@FILE` reads it from a file, `-` from standard input.
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print a resource's value as JSON.
    Get {
        name: String,
        /// Print the whole resource (value, description, times).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List resources.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a resource.
    Delete {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// The widest value shown in the list.
const LIST_VALUE_WIDTH: usize = 48;

pub async fn run(command: ResourceCommand) -> Result<ExitCode> {
    match command {
        ResourceCommand::Set {
            name,
            value,
            description,
            server,
        } => {
            let value = parse_value(&read_value(&value)?);
            let client = ApiClient::new(&server)?;
            let mut body = json!({ "value": value });
            if let Some(description) = description {
                body["description"] = Value::String(description);
            }
            let path = format!("/api/v1/resources/{}", path_segment(&name));
            let (status, _) = client.call_json(Method::PUT, &path, Some(&body)).await?;
            let what = if status == StatusCode::CREATED {
                "created"
            } else {
                "replaced"
            };
            println!("{what} resource {name}");
            Ok(ExitCode::SUCCESS)
        }
        ResourceCommand::Get { name, json, server } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/resources/{}", path_segment(&name));
            let (_, resource) = client.call_json(Method::GET, &path, None).await?;
            let shown = if json { &resource } else { &resource["value"] };
            println!("{}", serde_json::to_string_pretty(shown)?);
            Ok(ExitCode::SUCCESS)
        }
        ResourceCommand::List { json, server } => {
            let client = ApiClient::new(&server)?;
            let doc = client.get_json("/api/v1/resources", &[]).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<32} {:<width$}  DESCRIPTION",
                "NAME",
                "VALUE",
                width = LIST_VALUE_WIDTH
            );
            for item in doc["items"].as_array().into_iter().flatten() {
                println!(
                    "{:<32} {:<width$}  {}",
                    item["name"].as_str().unwrap_or("?"),
                    shorten(&item["value"].to_string()),
                    item["description"].as_str().unwrap_or(""),
                    width = LIST_VALUE_WIDTH
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ResourceCommand::Delete { name, server } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/resources/{}", path_segment(&name));
            client.call_json(Method::DELETE, &path, None).await?;
            println!("deleted resource {name}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The value's text: as given, or read from `@FILE` or `-` (standard input).
fn read_value(spec: &str) -> Result<String> {
    let text = if spec == "-" {
        super::read_input(Path::new("-"))?
    } else if let Some(file) = spec.strip_prefix('@') {
        super::read_input(Path::new(file))?
    } else {
        return Ok(spec.to_string());
    };
    Ok(text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text)
        .to_string())
}

/// JSON when the text is JSON, else the text as a string.
fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= LIST_VALUE_WIDTH {
        return text.to_string();
    }
    let cut: String = text.chars().take(LIST_VALUE_WIDTH - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_when_they_parse_and_strings_otherwise() {
        assert_eq!(parse_value("5"), json!(5));
        assert_eq!(parse_value("[\"a\", 1]"), json!(["a", 1]));
        assert_eq!(parse_value("{\"team\": \"soc\"}"), json!({"team": "soc"}));
        assert_eq!(parse_value("\"quoted\""), json!("quoted"));
        assert_eq!(parse_value("soc@example.com"), json!("soc@example.com"));
        assert_eq!(parse_value("[not json"), json!("[not json"));
        assert_eq!(shorten(&"x".repeat(100)).chars().count(), LIST_VALUE_WIDTH);
    }
}
