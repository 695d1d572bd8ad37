//! `muster runs list|show`, against a running server.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use crate::ServerArgs;
use crate::client::ApiClient;
use crate::tree;

#[derive(clap::Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        #[arg(long)]
        playbook: Option<String>,
        /// running, waiting, succeeded, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show one run and its event tree.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub async fn run(command: RunsCommand) -> Result<ExitCode> {
    match command {
        RunsCommand::List {
            playbook,
            status,
            limit,
            offset,
            json,
            server,
        } => {
            let client = ApiClient::new(&server)?;
            let mut query = vec![("limit", limit.to_string()), ("offset", offset.to_string())];
            if let Some(playbook) = playbook {
                query.push(("playbook", playbook));
            }
            if let Some(status) = status {
                query.push(("status", status));
            }
            let doc = client.get_json("/api/v1/runs", &query).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<36}  {:<9}  {:<24}  {:<24}  REASON",
                "ID", "STATUS", "PLAYBOOK", "CREATED"
            );
            for run in doc["items"].as_array().into_iter().flatten() {
                println!(
                    "{:<36}  {:<9}  {:<24}  {:<24}  {}",
                    text(&run["id"]),
                    text(&run["status"]),
                    text(&run["playbook"]),
                    text(&run["created_at"]),
                    text(&run["reason"])
                );
            }
            eprintln!(
                "{} of {} run(s)",
                doc["items"].as_array().map_or(0, Vec::len),
                doc["total"]
            );
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Show { id, json, server } => {
            let client = ApiClient::new(&server)?;
            let doc = client.get_json(&format!("/api/v1/runs/{id}"), &[]).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "run {}  {}  {} v{}",
                text(&doc["id"]),
                text(&doc["status"]),
                text(&doc["playbook"]),
                doc["version"]
            );
            if !doc["reason"].is_null() {
                println!("reason: {}", text(&doc["reason"]));
            }
            let events = doc["events"].as_array().cloned().unwrap_or_default();
            let nodes: Vec<tree::Node<'_>> = events
                .iter()
                .map(|e| tree::Node {
                    id: e["id"].as_str().unwrap_or_default(),
                    parent: e["parent"].as_str(),
                    action: e["action"].as_str().unwrap_or_default(),
                    port: e["port"].as_str().unwrap_or("out"),
                    output: &e["output"],
                })
                .collect();
            print!("{}", tree::render(&nodes));
            if !doc["output"].is_null() {
                println!("output: {}", doc["output"]);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
