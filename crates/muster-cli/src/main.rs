//! The `muster` command: run the server, run a playbook once, validate playbooks, manage a
//! running server (playbooks, runs, credentials, resources), and use the security
//! intelligence library.
//!
//! Data goes to stdout (`--json` for machines), diagnostics to stderr. Exit codes: 0 success,
//! 1 the thing ran but failed (a failed run, invalid playbooks), 2 usage or set-up errors.

mod client;
mod commands;
mod config;
mod logging;
mod master_key;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the engine allocates many small, short-lived values per step; glibc's allocator
/// was a tenth of its CPU time under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "muster",
    version,
    about = "Security orchestration, automation and response."
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: API, webhooks and workers, on the embedded store.
    Serve(commands::serve::ServeArgs),
    /// Run a playbook once on a temporary store and print every action's output.
    Run(commands::run::RunArgs),
    /// Check playbook files and report every problem.
    Validate(commands::validate::ValidateArgs),
    /// Manage the playbooks of a running server.
    #[command(subcommand)]
    Playbook(commands::playbook::PlaybookCommand),
    /// Inspect the runs of a running server.
    #[command(subcommand)]
    Runs(commands::runs::RunsCommand),
    /// Manage the credentials of a running server (values are never shown).
    #[command(subcommand)]
    Credential(commands::credential::CredentialCommand),
    /// Rotate the master key that seals the credentials (with the server stopped).
    #[command(subcommand)]
    MasterKey(commands::master_key::MasterKeyCommand),
    /// Manage the resources (named non-secret values) of a running server.
    #[command(subcommand)]
    Resource(commands::resource::ResourceCommand),
    /// List and describe action types.
    #[command(subcommand)]
    Actions(commands::actions::ActionsCommand),
    /// List and describe the vendor integrations (`virustotal`, `slack`, …).
    #[command(subcommand)]
    Integrations(commands::integrations::IntegrationsCommand),
    /// Extract indicators, take emails apart, normalise alerts.
    #[command(subcommand)]
    Intel(commands::intel::IntelCommand),
}

/// Where management commands find the server.
#[derive(clap::Args, Clone)]
pub struct ServerArgs {
    /// The server's base URL.
    #[arg(long, env = "MUSTER_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The API token (default: `MUSTER_API_TOKEN`, else `<data-dir>/api-token`).
    #[arg(long, env = "MUSTER_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The server's data directory, to read its generated API token.
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "muster-data")]
    pub data_dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Run(args) => commands::run::run(args).await,
            Command::Validate(args) => commands::validate::run(args),
            Command::Playbook(command) => commands::playbook::run(command).await,
            Command::MasterKey(command) => commands::master_key::run(command).await,
            Command::Runs(command) => commands::runs::run(command).await,
            Command::Credential(command) => commands::credential::run(command).await,
            Command::Resource(command) => commands::resource::run(command).await,
            Command::Actions(command) => commands::actions::run(command),
            Command::Integrations(command) => commands::integrations::run(command),
            Command::Intel(command) => commands::intel::run(command),
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
