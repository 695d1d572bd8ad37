//! `muster playbook import|export|list|delete|enable|disable`, against a running server.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::path_segment;
use crate::ServerArgs;
use crate::client::ApiClient;

#[derive(clap::Subcommand)]
pub enum PlaybookCommand {
    /// Validate and store playbooks (a new version when the content changed).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print a playbook's canonical YAML.
    Export {
        name: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List playbooks.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a playbook (its past runs stay until retention prunes them).
    Delete {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Let a playbook's triggers start runs again.
    Enable {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop a playbook's triggers from starting runs.
    Disable {
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: PlaybookCommand) -> Result<ExitCode> {
    match command {
        PlaybookCommand::Import { files, server } => {
            let client = ApiClient::new(&server)?;
            let mut failed = false;
            for file in files {
                let text = super::read_input(&file)?;
                let shown = file.display().to_string();
                match client
                    .send(
                        Method::POST,
                        "/api/v1/playbooks",
                        Some(("application/yaml", text)),
                        &[("file", shown.clone())],
                    )
                    .await?
                {
                    Ok((status, body)) => {
                        let doc: Value = serde_json::from_str(&body).unwrap_or_default();
                        let what = if status == StatusCode::CREATED {
                            "stored"
                        } else {
                            "unchanged"
                        };
                        println!(
                            "{shown}: {} version {} ({what})",
                            doc["name"].as_str().unwrap_or("?"),
                            doc["version"]
                        );
                    }
                    Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
                        failed = true;
                        for d in error.body["diagnostics"].as_array().into_iter().flatten() {
                            let hint = d["hint"]
                                .as_str()
                                .map(|h| format!(" (hint: {h})"))
                                .unwrap_or_default();
                            eprintln!(
                                "{}:{}:{}: {}{hint}",
                                shown,
                                d["line"],
                                d["column"],
                                d["message"].as_str().unwrap_or("")
                            );
                        }
                        eprintln!("{shown}: not imported");
                    }
                    Err(error) => {
                        failed = true;
                        eprintln!("{shown}: {error}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        PlaybookCommand::Export {
            name,
            output,
            server,
        } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/playbooks/{}/export", path_segment(&name));
            let (_, yaml) = client
                .send(Method::GET, &path, None, &[])
                .await?
                .map_err(|e| anyhow!(e))?;
            match output {
                Some(file) => std::fs::write(&file, yaml)?,
                None => print!("{yaml}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        PlaybookCommand::List { json, server } => {
            let client = ApiClient::new(&server)?;
            let doc = client.get_json("/api/v1/playbooks", &[]).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(ExitCode::SUCCESS);
            }
            let items = doc["items"].as_array().cloned().unwrap_or_default();
            println!(
                "{:<32} {:>7}  {:<8}  TRIGGERS",
                "NAME", "VERSION", "ENABLED"
            );
            for item in items {
                let triggers: Vec<String> = item["triggers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        let failing = match t["polling"]["failures"].as_u64() {
                            Some(n) if n > 0 => format!(" (polling failing, {n} in a row)"),
                            _ => String::new(),
                        };
                        format!(
                            "{}:{}{failing}",
                            t["id"].as_str().unwrap_or("?"),
                            t["type"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                println!(
                    "{:<32} {:>7}  {:<8}  {}",
                    item["name"].as_str().unwrap_or("?"),
                    item["version"].to_string(),
                    item["enabled"].to_string(),
                    triggers.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PlaybookCommand::Delete { name, server } => {
            let client = ApiClient::new(&server)?;
            let path = format!("/api/v1/playbooks/{}", path_segment(&name));
            client
                .send(Method::DELETE, &path, None, &[])
                .await?
                .map_err(|e| anyhow!(e))?;
            println!("deleted {name}");
            Ok(ExitCode::SUCCESS)
        }
        PlaybookCommand::Enable { name, server } => toggle(&name, &server, "enable").await,
        PlaybookCommand::Disable { name, server } => toggle(&name, &server, "disable").await,
    }
}

async fn toggle(name: &str, server: &ServerArgs, verb: &str) -> Result<ExitCode> {
    let client = ApiClient::new(server)?;
    let path = format!("/api/v1/playbooks/{}/{verb}", path_segment(name));
    client
        .send(Method::POST, &path, None, &[])
        .await?
        .map_err(|e| anyhow!(e))?;
    println!("{verb}d {name}");
    Ok(ExitCode::SUCCESS)
}
