//! `muster master-key rotate`: re-seals every credential under a new master key, with the
//! server stopped (the data directory's lock keeps a running server out).
//!
//! With a key file, the new key is first written beside it (`master-key.new`), the credentials
//! are re-sealed in one transaction, and the new file then replaces the old one. A crash in
//! between leaves both files; the next start keeps whichever one the store was sealed with
//! (see `crate::master_key`). With `MUSTER_MASTER_KEY`, the new key is written to the file
//! given with `--new-key-file`, for the operator to move into their secret store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use muster_engine::{Credentials, MasterKey};
use muster_store::{SqliteOptions, SqliteStore};

use crate::config::Config;
use crate::master_key::{self, pending_path};

#[derive(clap::Subcommand)]
pub enum MasterKeyCommand {
    /// Re-seal every credential under a new master key (stop the server first).
    Rotate {
        /// The server's data directory.
        #[arg(long, env = "MUSTER_DATA_DIR", default_value = "muster-data")]
        data_dir: PathBuf,
        /// A configuration file (default: `<data-dir>/muster.toml` when present).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where to write the new key when the current one comes from MUSTER_MASTER_KEY
        /// (a new file, mode 0600).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

pub async fn run(command: MasterKeyCommand) -> Result<ExitCode> {
    let MasterKeyCommand::Rotate {
        data_dir,
        config,
        new_key_file,
    } = command;
    let config = Config::load(config.as_deref(), &data_dir)?;
    let store = SqliteStore::open(&data_dir, SqliteOptions::default())
        .context("opening the data directory (is `muster serve` still running on it?)")?;
    let env_key = std::env::var("MUSTER_MASTER_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty());
    let key_file = config
        .credentials
        .master_key_file
        .clone()
        .unwrap_or_else(|| data_dir.join("master-key"));
    let current = master_key::load(env_key.clone(), Some(&key_file), &data_dir, &store).await?;
    let credentials = Credentials::new(Arc::new(store.clone()), Some(current.key));
    credentials
        .verify_key()
        .await
        .with_context(|| format!("checking the current master key ({})", current.source))?;
    let (new_path, final_path) = match (&env_key, new_key_file) {
        (Some(_), Some(path)) => (path, None),
        (Some(_), None) => bail!(
            "the current key comes from MUSTER_MASTER_KEY: give --new-key-file PATH to receive \
             the new one"
        ),
        (None, _) => (pending_path(&key_file), Some(key_file)),
    };
    let new = MasterKey::create(&new_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let count = match credentials.rekey(&new).await {
        Ok(count) => count,
        Err(err) => {
            let _ = std::fs::remove_file(&new_path);
            return Err(err).context("re-sealing the credentials (nothing was changed)");
        }
    };
    match final_path {
        Some(key_file) => {
            master_key::replace(&new_path, &key_file)?;
            println!(
                "re-sealed {count} credential(s) under a new master key, now in {}",
                key_file.display()
            );
        }
        None => println!(
            "re-sealed {count} credential(s) under a new master key, written to {}: set \
             MUSTER_MASTER_KEY to its content before the next start, then delete the file",
            new_path.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}
