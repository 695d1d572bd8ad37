//! `muster run FILE --event JSON|@file`: runs a playbook once on a temporary store and prints
//! the event tree — the fastest way to develop a playbook. The temporary store has no
//! credentials or resources: playbooks that use them run on `muster serve`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use muster_engine::{Engine, EngineConfig, EngineError, TriggerRequest};
use muster_model::HumanDuration;
use muster_store::{RunStatus, SqliteOptions, SqliteStore, Store, Synchronous};
use serde_json::{Value, json};

use crate::tree;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The playbook file.
    file: PathBuf,
    /// The trigger event: JSON text, `@FILE`, or `-` for standard input.
    #[arg(long, default_value = "{}")]
    event: String,
    /// The trigger action to start from (default: the first manual trigger, else the first).
    #[arg(long)]
    trigger: Option<String>,
    /// How long to wait for the run to finish.
    #[arg(long, default_value = "5m")]
    timeout: HumanDuration,
    /// Print `{"run": {...}, "events": [...]}` instead of a tree.
    #[arg(long)]
    json: bool,
    /// A configuration file whose `[http]` and `[smtp]` sections apply (`MUSTER_HTTP_*` and
    /// `MUSTER_SMTP_*` variables do too), e.g. to allow a local test server with
    /// `allow = ["127.0.0.1/32"]`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A data directory whose `integrations/` apply (the run itself uses a temporary store).
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "muster-data")]
    data_dir: PathBuf,
}

fn read_event(spec: &str) -> Result<Value> {
    let text = if spec == "-" {
        super::read_input(std::path::Path::new("-"))?
    } else if let Some(path) = spec.strip_prefix('@') {
        super::read_input(std::path::Path::new(path))?
    } else {
        spec.to_string()
    };
    serde_json::from_str(&text)
        .with_context(|| format!("the event is not valid JSON: {}", preview(&text)))
}

fn preview(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

pub async fn run(args: RunArgs) -> Result<ExitCode> {
    let source = super::read_input(&args.file)?;
    let event = read_event(&args.event)?;
    let dir = tempfile::tempdir().context("creating a temporary store")?;
    let store = SqliteStore::open(
        dir.path(),
        SqliteOptions {
            synchronous: Synchronous::Normal,
            ..SqliteOptions::default()
        },
    )?;
    let settings = crate::config::Config::load(args.config.as_deref(), dir.path())?;
    let services = settings.services()?;
    let config = EngineConfig {
        poll_interval: Duration::from_millis(100),
        // One run from the given event: polling triggers must not read their real sources.
        run_pollers: false,
        ..EngineConfig::default()
    };
    let engine = Engine::new(
        Arc::new(store.clone()),
        settings.registry(&args.data_dir)?,
        services,
        config,
    );
    engine.start();
    let file = args.file.display().to_string();
    let installed = match engine.install(&file, &source).await {
        Ok(installed) => installed,
        Err(EngineError::Invalid(diagnostics)) => {
            super::print_diagnostics(&diagnostics);
            eprintln!("{file}: {} problem(s); nothing was run", diagnostics.len());
            return Ok(ExitCode::from(1));
        }
        Err(err) => return Err(err.into()),
    };
    let name = installed.compiled.name().to_string();
    let run = match &args.trigger {
        None => engine.trigger_with_payload(&name, event, true).await?,
        Some(trigger) => {
            let Some(action) = installed
                .compiled
                .action(trigger)
                .filter(|a| a.implementation.spec().trigger)
            else {
                bail!("playbook {name} has no trigger `{trigger}`");
            };
            let output = action.implementation.trigger_output(&action.def, event);
            engine
                .trigger(TriggerRequest {
                    playbook: name.clone(),
                    trigger: Some(trigger.clone()),
                    output,
                    once_key: None,
                    even_if_disabled: true,
                })
                .await?
        }
    };
    let finished = engine
        .wait_until_finished(run, args.timeout.as_duration())
        .await;
    let record = store.run(run).await?.context("the run disappeared")?;
    let events = store.run_events(run).await?;
    engine.shutdown(Duration::from_secs(1)).await;
    if args.json {
        let listed: Vec<Value> = events
            .iter()
            .map(|e| json!({"id": e.id, "parent": e.parent, "action": e.action, "port": e.port, "output": e.output}))
            .collect();
        let doc = json!({
            "run": {"id": record.id, "status": record.status, "reason": record.reason},
            "events": listed,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        let parents: Vec<Option<String>> = events
            .iter()
            .map(|e| e.parent.map(|p| p.to_string()))
            .collect();
        let nodes: Vec<tree::Node<'_>> = events
            .iter()
            .enumerate()
            .map(|(i, e)| tree::Node {
                id: &ids[i],
                parent: parents[i].as_deref(),
                action: &e.action,
                port: &e.port,
                output: &e.output,
            })
            .collect();
        print!("{}", tree::render(&nodes));
        let reason = record
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        println!("run {} {}{reason}", record.id, record.status);
        if let Some(output) = &record.output {
            println!("output: {output}");
        }
    }
    if record.status == RunStatus::Failed
        && (source.contains("credentials.") || source.contains("resources."))
    {
        eprintln!(
            "note: `muster run` uses a temporary store without credentials or resources; \
             import the playbook into `muster serve` (which has them) to run it with them"
        );
    }
    if finished.is_none() {
        eprintln!("the run did not finish within {} (--timeout)", args.timeout);
        return Ok(ExitCode::from(1));
    }
    Ok(if record.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
