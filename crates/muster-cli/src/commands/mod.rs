//! One module per subcommand.

pub mod actions;
pub mod credential;
pub mod intel;
pub mod playbook;
pub mod resource;
pub mod run;
pub mod runs;
pub mod serve;
pub mod validate;

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use muster_model::load::Diagnostic;

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
