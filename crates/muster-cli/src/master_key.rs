//! Where `muster serve` gets the master key credentials are sealed with: `MUSTER_MASTER_KEY`,
//! else the key file (`[credentials] master_key_file`, default `<data-dir>/master-key`),
//! created with a new random key (mode 0600) on first start.
//!
//! A new key is only ever made for a data directory that has never sealed anything: when the
//! store records a key check and the key file is gone, start-up stops with an error rather than
//! making a key that would not open the stored credentials.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use muster_engine::MasterKey;
use muster_engine::credentials::{KEY_CHECK, is_key_check};
use muster_store::Store;

/// The key, and where it came from (for the start-up message; never the key itself).
pub struct Loaded {
    pub key: MasterKey,
    pub source: String,
}

/// Reads the key from `env` (the value of `MUSTER_MASTER_KEY`) or the key file.
pub async fn load(
    env: Option<String>,
    file: Option<&Path>,
    data_dir: &Path,
    store: &dyn Store,
) -> Result<Loaded> {
    if let Some(text) = env.filter(|t| !t.trim().is_empty()) {
        let key = MasterKey::parse(&text).map_err(|e| anyhow!("MUSTER_MASTER_KEY: {e}"))?;
        return Ok(Loaded {
            key,
            source: "from MUSTER_MASTER_KEY".into(),
        });
    }
    let path: PathBuf = file.map_or_else(|| data_dir.join("master-key"), Path::to_path_buf);
    finish_rotation(&path, store).await?;
    let exists = path.try_exists().unwrap_or(true);
    if !exists && store.setting(KEY_CHECK).await?.is_some() {
        bail!(
            "the master key file {} is missing, but this data directory was set up with a \
             master key (its credentials are sealed with it): restore the file from a backup, \
             or set MUSTER_MASTER_KEY to that key. A new key is not made: it could not open \
             them",
            path.display()
        );
    }
    let key = MasterKey::load_or_create(&path).map_err(|e| anyhow!("{e}"))?;
    let source = if exists {
        format!("from {}", path.display())
    } else {
        format!("generated into {}", path.display())
    };
    Ok(Loaded { key, source })
}

/// Where a rotation writes the new key before it is committed.
pub fn pending_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Puts the new key file in place of the old one, durably.
pub fn replace(new: &Path, key_file: &Path) -> Result<()> {
    std::fs::rename(new, key_file)
        .with_context(|| format!("moving {} to {}", new.display(), key_file.display()))?;
    if let Some(dir) = key_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// Completes a rotation that stopped between re-sealing and replacing the key file: the
/// pending key is kept if the store was sealed with it, dropped otherwise.
async fn finish_rotation(key_file: &Path, store: &dyn Store) -> Result<()> {
    let pending = pending_path(key_file);
    if !pending.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&pending)
        .with_context(|| format!("reading {}", pending.display()))?;
    let key = MasterKey::parse(&text).map_err(|e| anyhow!("{}: {e}", pending.display()))?;
    let committed = match store.setting(KEY_CHECK).await? {
        Some(check) => is_key_check(&key, &check),
        None => false,
    };
    if committed {
        replace(&pending, key_file)?;
        eprintln!(
            "finished an interrupted master key rotation: {} now holds the new key",
            key_file.display()
        );
    } else {
        std::fs::remove_file(&pending)
            .with_context(|| format!("removing {}", pending.display()))?;
        eprintln!(
            "removed {} left by a master key rotation that did not complete",
            pending.display()
        );
    }
    Ok(())
}
