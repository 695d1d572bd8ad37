//! Loading playbooks from YAML or JSON text, with every problem reported as a
//! `file:line:column: message (hint: …)` diagnostic, and writing them back in canonical form.
//!
//! Loading goes through four stages, each reporting every problem it finds:
//! 1. [`yaml`]: text → JSON value plus the position of every key and value, with limits on
//!    size, depth and alias expansion, and errors for duplicate keys and unsupported tags;
//! 2. [`structure`]: keys and value types against the shape of [`Playbook`];
//! 3. [`semantic`], [`links`], [`options`]: ids, types, triggers, links and ports, option
//!    problems from the action catalogue, expressions, inputs, layout, limits;
//! 4. deserialising the checked value into [`Playbook`].
//!
//! A playbook with any problem is never returned, so nothing half-loaded can be stored.

mod diagnostic;
mod emit;
mod links;
mod options;
mod positions;
mod scalar;
mod schema;
mod semantic;
mod structure;
mod suggest;
mod yaml;

use serde::Deserialize;
use serde_json::Value;

use crate::catalog::ActionCatalog;
use crate::expr::{ExprProblem, Expressions};
use crate::playbook::Playbook;

pub use diagnostic::{Diagnostic, MAX_DIAGNOSTICS};
pub use schema::SCHEMA_ID;
pub use semantic::{MAX_ID_LEN, MAX_NAME_LEN, RESERVED_IDS};
pub use yaml::{MAX_DEPTH, MAX_EXPANDED_BYTES, MAX_NODES, MAX_TEXT_BYTES};

use diagnostic::{Pos, Report};

/// What the loader needs from the expression language: the problems in one option string.
///
/// [`Expressions`] is the implementation; the trait keeps the loader's checks independent of
/// how expressions are compiled.
pub trait ExpressionCheck {
    /// Every problem in `text` (empty when it compiles).
    fn check(&self, text: &str) -> Vec<ExprProblem>;
}

impl ExpressionCheck for Expressions {
    fn check(&self, text: &str) -> Vec<ExprProblem> {
        match self.compile(&Value::String(text.to_string())) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }
}

/// A YAML document read with the playbook loader's rules and limits (YAML 1.2 core schema, one
/// document, anchors expanded, no merge keys or custom tags, bounded size, depth and
/// expansion), with the position of every key and value. Other file formats (integrations) use
/// it to report problems as `file:line:column` diagnostics the way playbooks do.
pub struct LocatedDocument {
    file: String,
    value: Value,
    positions: positions::Positions,
}

impl LocatedDocument {
    /// The document as JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// A problem located at the value that `pointer` (RFC 6901: `/actions/ip_report/inputs`)
    /// names, or at its nearest ancestor that was written in the file.
    pub fn at_value(
        &self,
        pointer: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let pos = self
            .positions
            .value(&positions::Pointer::from_text(pointer));
        self.diagnostic(pos, message, hint)
    }

    /// Like [`at_value`](Self::at_value), located at the member's key (unknown keys).
    pub fn at_key(
        &self,
        pointer: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let pos = self.positions.key(&positions::Pointer::from_text(pointer));
        self.diagnostic(pos, message, hint)
    }

    fn diagnostic(&self, pos: Pos, message: impl Into<String>, hint: Option<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
            hint,
        }
    }
}

/// Reads YAML (or JSON) text of a kind of file named `noun` (`integration`); `empty_hint`
/// says what an empty file should hold. Syntax errors and the limits are reported as for
/// playbooks.
pub fn parse_located(
    file: &str,
    text: &str,
    noun: &'static str,
    empty_hint: &'static str,
) -> Result<LocatedDocument, Vec<Diagnostic>> {
    let mut report = Report::new(file);
    let flavor = yaml::Flavor { noun, empty_hint };
    let document = yaml::parse_as(text, flavor, &mut report);
    match document {
        Some(document) if report.is_empty() => Ok(LocatedDocument {
            file: file.to_string(),
            value: document.value,
            positions: document.positions,
        }),
        _ => Err(report.into_sorted()),
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
    load_playbook_with(file, text, catalog, expressions)
}

/// [`load_playbook`] with any [`ExpressionCheck`].
pub fn load_playbook_with(
    file: &str,
    text: &str,
    catalog: &dyn ActionCatalog,
    expressions: &dyn ExpressionCheck,
) -> Result<Playbook, Vec<Diagnostic>> {
    let mut report = Report::new(file);
    let Some(document) = yaml::parse(text, &mut report) else {
        return Err(report.into_sorted());
    };
    // Values the parser already complained about (an unsupported tag, a duplicate key) are
    // not reported again by the later checks.
    let reported = report.places();
    let mut checks = Report::new(file);
    structure::check(&document, &mut checks);
    semantic::check(&document, catalog, expressions, &mut checks);
    report.merge_except(checks, &reported);
    if !report.is_empty() {
        return Err(report.into_sorted());
    }
    match Playbook::deserialize(&document.value) {
        Ok(playbook) => Ok(playbook),
        Err(error) => {
            // The checks above mirror the types, so this is a gap in them; still a clear
            // error rather than a panic.
            report.error(
                Pos::START,
                format!("the playbook could not be read: {error}"),
            );
            Err(report.into_sorted())
        }
    }
}

/// The canonical YAML form: fixed key order, so export → import → export is byte-identical.
///
/// Document keys follow the field order of [`Playbook`] and [`ActionDef`](crate::ActionDef),
/// `inputs` and `layout` are sorted by name, option keys keep the order they were written in.
pub fn to_canonical_yaml(playbook: &Playbook) -> String {
    match serde_json::to_value(playbook) {
        Ok(value) => emit::document(&value),
        // Serialising the model into a JSON value cannot fail: every map has string keys.
        Err(error) => format!("# cannot serialise the playbook: {error}\n"),
    }
}

/// The JSON Schema of the playbook format, generated from the types.
pub fn json_schema() -> serde_json::Value {
    schema::generate()
}
