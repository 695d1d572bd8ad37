//! `muster actions list|describe`: what each action type does and takes.

use std::process::ExitCode;

use anyhow::{Result, bail};
use muster_engine::ActionSpec;
use serde_json::{Value, json};

#[derive(clap::Subcommand)]
pub enum ActionsCommand {
    /// List every action type with its summary.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        library: super::LibraryArgs,
    },
    /// Describe one action type: behaviour, ports, options and an example.
    Describe {
        /// The type name, e.g. `http_request`.
        r#type: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        library: super::LibraryArgs,
    },
}

pub fn spec_json(spec: &ActionSpec) -> Value {
    let mut ports = vec!["out"];
    ports.extend(spec.ports.iter().copied());
    json!({
        "type": spec.kind,
        "summary": spec.summary,
        "description": spec.description,
        "trigger": spec.trigger,
        "ports": ports,
        "options": spec.options,
        "example": spec.example,
        "side_effects": spec.side_effects,
    })
}

pub fn run(command: ActionsCommand) -> Result<ExitCode> {
    match command {
        ActionsCommand::List { json, library } => {
            let registry = library.registry()?;
            let specs: Vec<&ActionSpec> = registry.iter().map(|a| a.spec()).collect();
            if json {
                let list: Vec<Value> = specs.iter().map(|s| spec_json(s)).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let width = specs.iter().map(|s| s.kind.len()).max().unwrap_or(0);
                for spec in specs {
                    let kind = if spec.trigger { " (trigger)" } else { "" };
                    println!("{:width$}  {}{kind}", spec.kind, spec.summary);
                }
            }
        }
        ActionsCommand::Describe {
            r#type,
            json,
            library,
        } => {
            let registry = library.registry()?;
            let Some(action) = registry.get(&r#type) else {
                let known: Vec<&str> = registry.iter().map(|a| a.spec().kind.as_ref()).collect();
                bail!("unknown action type `{type}` (known: {})", known.join(", "));
            };
            let spec = action.spec();
            if json {
                println!("{}", serde_json::to_string_pretty(&spec_json(spec))?);
            } else {
                println!(
                    "{}{}",
                    spec.kind,
                    if spec.trigger { " (trigger)" } else { "" }
                );
                println!("\n{}\n\n{}\n", spec.summary, spec.description);
                let mut ports = vec!["out"];
                ports.extend(spec.ports.iter().copied());
                println!("Ports: {} (and `error` when linked)\n", ports.join(", "));
                println!(
                    "Options (JSON Schema):\n{}\n",
                    serde_json::to_string_pretty(&spec.options)?
                );
                println!("Example:\n{}", spec.example);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
