//! One module per subcommand.

pub mod actions;
pub mod credential;
pub mod integrations;
pub mod intel;
pub mod master_key;
pub mod playbook;
pub mod resource;
pub mod run;
pub mod runs;
pub mod serve;
pub mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use muster_actions::integrations::Library;
use muster_engine::Registry;
use muster_model::load::Diagnostic;

use crate::config::Config;

/// Where commands that work without a server find the operator's integrations: the
/// configuration's `[engine] integrations_dir`, else `<data-dir>/integrations`.
#[derive(clap::Args, Clone)]
pub struct LibraryArgs {
    /// The data directory whose `muster.toml` and `integrations/` apply.
    #[arg(long, env = "MUSTER_DATA_DIR", default_value = "muster-data")]
    pub data_dir: PathBuf,
    /// A configuration file (default: `<data-dir>/muster.toml` when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl LibraryArgs {
    /// The built-in integrations and the operator's.
    pub fn library(&self) -> Result<Library> {
        Config::load(self.config.as_deref(), &self.data_dir)?.integrations(&self.data_dir)
    }

    /// Every action type: the built-in ones and the integrations.
    pub fn registry(&self) -> Result<Registry> {
        Ok(muster_actions::registry_with(&self.library()?))
    }
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(text);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// A name as one URL path segment.
pub fn path_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes()).collect()
}

/// Prints diagnostics to stderr, one per line.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        eprintln!("{diagnostic}");
    }
}
