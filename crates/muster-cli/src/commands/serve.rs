//! `muster serve`: the API, webhooks and workers on the embedded SQLite store. With no
//! configuration it creates `./muster-data/` (with its API token and master key) and needs
//! nothing else. A master key that does not open the stored credentials stops start-up.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use muster_engine::Engine;
use muster_store::{SqliteOptions, SqliteStore};

use crate::config::Config;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where the database, the API token and `muster.toml` live.
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "muster-data")]
    pub data_dir: PathBuf,
    /// Address to listen on (overrides `[server] listen`).
    #[arg(long)]
    pub listen: Option<String>,
    /// A configuration file (default: `<data-dir>/muster.toml` when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// How long running tasks may take to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub async fn run(args: ServeArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let mut config = Config::load(args.config.as_deref(), &args.data_dir)?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let (token, token_source) = api_token(&args.data_dir)?;
    let store = SqliteStore::open(
        &args.data_dir,
        SqliteOptions {
            synchronous: config.store.synchronous,
            ..SqliteOptions::default()
        },
    )?;
    let master_key = crate::master_key::load(
        std::env::var("MUSTER_MASTER_KEY").ok(),
        config.credentials.master_key_file.as_deref(),
        &args.data_dir,
        &store,
    )
    .await?;
    let services = config.services()?;
    let engine = Engine::new(
        Arc::new(store),
        config.registry(&args.data_dir)?,
        services,
        muster_engine::EngineConfig {
            master_key: Some(master_key.key),
            ..config.engine()
        },
    );
    engine
        .credentials()
        .verify_key()
        .await
        .with_context(|| format!("checking the master key ({})", master_key.source))?;
    for (name, problem) in engine.load_playbooks().await? {
        tracing::error!(playbook = %name, error = %problem, "a stored playbook does not load; its triggers are off");
    }
    engine.start();
    let server_config = muster_server::ServerConfig {
        max_playbook_bytes: config.server.max_playbook_bytes,
        ..muster_server::ServerConfig::new(token.clone())
    };
    let router = muster_server::router(engine.clone(), server_config);
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    eprintln!(
        "Muster is listening on http://{address}\n  data directory: {}\n  master key: {} (back it up with the data directory)\n  API token ({token_source}): {token}\n  try: curl -H 'Authorization: Bearer {token}' http://{address}/api/v1/playbooks",
        args.data_dir.display(),
        master_key.source,
    );
    muster_server::serve(listener, router, stop_signal()).await?;
    eprintln!(
        "stopping: letting running tasks finish (up to {}s)",
        SHUTDOWN_GRACE.as_secs()
    );
    engine.shutdown(SHUTDOWN_GRACE).await;
    Ok(ExitCode::SUCCESS)
}

/// `MUSTER_API_TOKEN` when set, else the token in `<data-dir>/api-token`, created (mode 0600)
/// on first start.
fn api_token(data_dir: &Path) -> Result<(String, String)> {
    if let Ok(token) = std::env::var("MUSTER_API_TOKEN")
        && !token.trim().is_empty()
    {
        return Ok((token.trim().to_string(), "from MUSTER_API_TOKEN".into()));
    }
    let path = data_dir.join("api-token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => {
            return Ok((token.trim().to_string(), format!("from {}", path.display())));
        }
        Ok(_) => anyhow::bail!(
            "{} is empty; delete it to generate a new token",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    Ok((token, format!("generated into {}", path.display())))
}

async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
