//! Raw text input: one event as JSON, a CEF line or a LEEF line, parsed into a JSON value
//! before the mapping runs.

use serde_json::Value;

use super::error::ParseError;
use super::mapping::SourceFormat;
use super::{cef, leef};

/// A parsed record and the parser's warnings.
pub(crate) struct Record {
    pub(crate) value: Value,
    pub(crate) warnings: Vec<String>,
}

/// Parses one record of `format`. JSON errors carry serde_json's line and column (nesting
/// deeper than 128 levels is refused there).
pub(crate) fn parse_record(text: &str, format: SourceFormat) -> Result<Record, ParseError> {
    match format {
        SourceFormat::Json => serde_json::from_str::<Value>(text)
            .map(|value| Record {
                value,
                warnings: Vec::new(),
            })
            .map_err(|error| ParseError {
                line: error.line().max(1),
                column: error.column().max(1),
                message: json_message(&error),
            }),
        SourceFormat::Cef => cef::parse(text).map(|parsed| Record {
            value: parsed.value,
            warnings: parsed.warnings,
        }),
        SourceFormat::Leef => leef::parse(text).map(|parsed| Record {
            value: parsed.value,
            warnings: parsed.warnings,
        }),
    }
}

/// serde_json's message without its trailing " at line L column C" (the position is kept in
/// the error's fields).
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(end) => format!("invalid JSON: {}", &text[..end]),
        None => format!("invalid JSON: {text}"),
    }
}
