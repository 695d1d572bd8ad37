//! Located problems in a playbook file and the list they are collected in.

use std::fmt;

/// One problem in a playbook file, located at a line and column (both 1-based; the column
/// counts characters, not bytes).
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

/// A place in the text: 1-based line and character column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// From saphyr's marker (1-based line, 0-based column).
    pub fn from_marker(marker: &saphyr_parser::Marker) -> Pos {
        Pos {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }
}

/// The diagnostics found so far for one file.
pub(crate) struct Report {
    file: String,
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            diagnostics: Vec::new(),
        }
    }

    pub fn add(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
            hint,
        });
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.add(pos, message, None);
    }

    pub fn hinted(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.add(pos, message, Some(hint.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Places where a problem has already been reported.
    pub fn places(&self) -> Vec<Pos> {
        self.diagnostics
            .iter()
            .map(|d| Pos {
                line: d.line,
                column: d.column,
            })
            .collect()
    }

    /// Appends `other`'s diagnostics, except those at places listed in `already_reported`:
    /// a value that could not be read is reported once, not again by each later check.
    pub fn merge_except(&mut self, other: Report, already_reported: &[Pos]) {
        self.diagnostics
            .extend(other.diagnostics.into_iter().filter(|d| {
                !already_reported.contains(&Pos {
                    line: d.line,
                    column: d.column,
                })
            }));
    }

    /// The diagnostics in text order, without repeats.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        // Stable: diagnostics at the same place keep the order the checks found them in.
        self.diagnostics.sort_by_key(|d| (d.line, d.column));
        let mut unique: Vec<Diagnostic> = Vec::with_capacity(self.diagnostics.len());
        for d in self.diagnostics {
            if !unique.contains(&d) {
                unique.push(d);
            }
        }
        unique
    }
}
