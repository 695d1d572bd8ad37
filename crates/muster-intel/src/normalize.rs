//! Alert normalisation: brings alerts from different tools into one shape, aligned with OCSF.
//!
//! A SIEM says `src_ip`, an EDR `sourceAddress`, an IDS `remote-ip-address`; a playbook wants
//! one field. A [`Mapping`] (YAML or JSON) says, for each target field, which source paths or
//! constants to try, how to transform, translate and coerce the value, and what to do with the
//! rest of the input. Built-in [`profiles`] cover common sources, [`cef`] and [`leef`] parse
//! raw syslog lines, and [`ocsf::validate`] checks the result against the OCSF class.
//!
//! ```
//! use muster_intel::normalize::{self, Mapping};
//! use serde_json::json;
//!
//! let mapping = Mapping::from_yaml(r#"
//! fields:
//!   source_ip: { from: [src_ip, sourceAddress, "['remote-ip-address']"], coerce: ip }
//! "#).unwrap();
//! let out = normalize::normalize(&json!({"remote-ip-address": "203.0.113.7"}), &mapping).unwrap();
//! assert_eq!(out.event["source_ip"], "203.0.113.7");
//! ```
//!
//! Pure and bounded: no I/O; text input is capped at [`MAX_TEXT_BYTES`], JSON nesting at 128
//! levels, paths at 32 steps, and the copies made for `unmapped` at 64 levels.

mod apply;
pub mod cef;
mod coerce;
mod derive;
mod enum_map;
mod error;
pub mod leef;
mod mapping;
pub mod ocsf;
mod path;
mod profiles;
mod syslog;
mod template;
mod text;
mod timestamp;
mod transform;
mod unmapped;

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use coerce::Coercion;
pub use enum_map::EnumMap;
pub use error::{MappingError, NormalizeError, ParseError};
pub use mapping::{Mapping, RAW_DATA_KEY, SourceFormat, UNMAPPED_KEY, Unmapped};
pub use ocsf::OcsfClass;
pub use path::{SourcePath, TargetPath};
pub use profiles::{Profile, profile, profiles};
pub use transform::Transform;

/// The largest raw text accepted by [`normalize_text`] and [`normalize_lines`], in bytes.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// A normalised event and what was odd on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The normalised event (a JSON object).
    pub event: Value,
    /// Values that were skipped or left out, parser oddities, truncated copies.
    pub warnings: Vec<Warning>,
}

/// Something the normaliser tolerated but the caller may want to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The target field concerned, if any.
    pub field: Option<String>,
    /// What happened.
    pub message: String,
}

impl Warning {
    pub(crate) fn field(target: &TargetPath, message: String) -> Self {
        Self {
            field: Some(target.to_string()),
            message,
        }
    }

    pub(crate) fn general(message: String) -> Self {
        Self {
            field: None,
            message,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Settings of one normalisation.
#[derive(Debug, Clone, Copy)]
pub struct NormalizeOptions {
    /// "Now", for timestamps written without a year (syslog's `MMM dd HH:MM:SS`).
    pub reference_time: DateTime<Utc>,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self {
            reference_time: Utc::now(),
        }
    }
}

/// Normalises a parsed alert with a mapping (or a [`Profile`]).
pub fn normalize(
    input: &Value,
    mapping: impl AsRef<Mapping>,
) -> Result<Normalized, NormalizeError> {
    normalize_with(input, mapping, &NormalizeOptions::default())
}

/// Like [`normalize`], with explicit options.
pub fn normalize_with(
    input: &Value,
    mapping: impl AsRef<Mapping>,
    options: &NormalizeOptions,
) -> Result<Normalized, NormalizeError> {
    apply::apply(mapping.as_ref(), input, options.reference_time, None)
}

/// Normalises one raw record in the mapping's source format: a JSON document, or a single
/// CEF or LEEF line (a syslog header before it is fine).
pub fn normalize_text(
    text: &str,
    mapping: impl AsRef<Mapping>,
) -> Result<Normalized, NormalizeError> {
    normalize_text_with(text, mapping, &NormalizeOptions::default())
}

/// Like [`normalize_text`], with explicit options.
pub fn normalize_text_with(
    text: &str,
    mapping: impl AsRef<Mapping>,
    options: &NormalizeOptions,
) -> Result<Normalized, NormalizeError> {
    let mapping = mapping.as_ref();
    check_size(text)?;
    let record = match mapping.source {
        SourceFormat::Json => text,
        SourceFormat::Cef | SourceFormat::Leef => {
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty());
            let first = lines.next().map_or("", |(_, line)| line);
            if let Some((index, _)) = lines.next() {
                return Err(ParseError::at(
                    1,
                    "one event per call: this text holds several lines; use normalize_lines",
                )
                .on_line(index + 1)
                .into());
            }
            first
        }
    };
    normalize_record(record, mapping, options)
}

/// Normalises every non-blank line of `text` (JSON Lines, or one CEF/LEEF event per line).
/// Each result comes with its 1-based line number; errors name that line.
pub fn normalize_lines(
    text: &str,
    mapping: impl AsRef<Mapping>,
    options: &NormalizeOptions,
) -> Vec<(usize, Result<Normalized, NormalizeError>)> {
    let mapping = mapping.as_ref();
    if let Err(error) = check_size(text) {
        return vec![(1, Err(error))];
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let number = index + 1;
            let result = normalize_record(line, mapping, options).map_err(|error| match error {
                NormalizeError::Parse(parse) => NormalizeError::Parse(parse.on_line(number)),
                other => other,
            });
            (number, result)
        })
        .collect()
}

fn check_size(text: &str) -> Result<(), NormalizeError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(NormalizeError::TooLarge {
            size: text.len(),
            limit: MAX_TEXT_BYTES,
        });
    }
    Ok(())
}

fn normalize_record(
    record: &str,
    mapping: &Mapping,
    options: &NormalizeOptions,
) -> Result<Normalized, NormalizeError> {
    let parsed = text::parse_record(record, mapping.source)?;
    let mut normalized =
        apply::apply(mapping, &parsed.value, options.reference_time, Some(record))?;
    let parser_warnings = parsed.warnings.into_iter().map(Warning::general);
    normalized.warnings.splice(0..0, parser_warnings);
    Ok(normalized)
}

impl AsRef<Mapping> for Mapping {
    fn as_ref(&self) -> &Mapping {
        self
    }
}
