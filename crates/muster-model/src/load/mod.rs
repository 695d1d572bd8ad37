//! Loading playbooks from YAML or JSON text, with every problem reported as a
//! `file:line:column: message` diagnostic, and writing them back in canonical form.

use std::fmt;

use crate::catalog::ActionCatalog;
use crate::expr::Expressions;
use crate::playbook::Playbook;

/// One problem in a playbook file, located at a line and column (both 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A one-line suggestion that fixes the problem.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Parses and validates a playbook written in YAML (JSON is valid YAML, so this also loads
/// JSON). Returns every problem at once; a playbook with problems is never returned.
pub fn load_playbook(
    file: &str,
    text: &str,
    catalog: &dyn ActionCatalog,
    expressions: &Expressions,
) -> Result<Playbook, Vec<Diagnostic>> {
    let _ = (file, text, catalog, expressions);
    unimplemented!()
}

/// The canonical YAML form: fixed key order, so export → import → export is byte-identical.
pub fn to_canonical_yaml(playbook: &Playbook) -> String {
    let _ = playbook;
    unimplemented!()
}

/// The JSON Schema of the playbook format, generated from the types.
pub fn json_schema() -> serde_json::Value {
    unimplemented!()
}
