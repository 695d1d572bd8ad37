//! Errors of alert normalisation: loading a mapping, parsing raw text, applying a mapping.
//!
//! Every error names where the problem is: the target field, the source path, or the line
//! and column of the raw text.

use thiserror::Error;

/// A mapping (or profile) that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid mapping: {message}")]
pub struct MappingError {
    /// What is wrong and where (the YAML location and the field, when known).
    pub message: String,
}

impl MappingError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Raw text (a CEF or LEEF line, a JSON document) that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the input.
    pub line: usize,
    /// 1-based column (in characters) where the problem was found.
    pub column: usize,
    /// What was expected there.
    pub message: String,
}

impl ParseError {
    /// An error at a character column of the first line.
    pub(crate) fn at(column: usize, message: impl Into<String>) -> Self {
        Self {
            line: 1,
            column,
            message: message.into(),
        }
    }

    /// The same error, moved to another line of a multi-line input.
    pub(crate) fn on_line(mut self, line: usize) -> Self {
        self.line = line;
        self
    }
}

/// Why an input could not be normalised.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NormalizeError {
    /// The raw text could not be parsed in the mapping's source format.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The input is not a JSON object.
    #[error("the input must be a JSON object, got {found}")]
    NotAnObject {
        /// The JSON type that was given.
        found: &'static str,
    },
    /// The input is larger than the normaliser accepts.
    #[error("the input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input is not the kind of event the mapping was written for (its `expect` rules).
    #[error("the input does not fit this mapping: `{path}` is {found}, expected one of {expected}")]
    Unexpected {
        /// The source path that was checked.
        path: String,
        /// What the input holds there (`missing` when absent).
        found: String,
        /// The accepted values.
        expected: String,
    },
    /// A field marked `required` got no value.
    #[error("field `{field}` is required, but {reason}")]
    MissingRequired {
        /// The target field.
        field: String,
        /// Which sources were tried and why none gave a value.
        reason: String,
    },
    /// A value could not be placed at its target path.
    #[error("field `{field}`: {reason}")]
    Target {
        /// The target field.
        field: String,
        /// Why it could not be set.
        reason: String,
    },
}
