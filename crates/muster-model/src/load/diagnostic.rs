//! Located problems in a playbook file and the list they are collected in.

use std::collections::HashSet;
use std::fmt;

/// Most diagnostics returned for one file; a file with more problems than this is not worth
/// listing in full.
pub const MAX_DIAGNOSTICS: usize = 200;

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

fn place(d: &Diagnostic) -> Pos {
    Pos {
        line: d.line,
        column: d.column,
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
    pub fn places(&self) -> HashSet<Pos> {
        self.diagnostics.iter().map(place).collect()
    }

    /// Appends `other`'s diagnostics, except those at places in `already_reported`: a value
    /// that could not be read is reported once, not again by each later check.
    pub fn merge_except(&mut self, other: Report, already_reported: &HashSet<Pos>) {
        self.diagnostics.extend(
            other
                .diagnostics
                .into_iter()
                .filter(|d| !already_reported.contains(&place(d))),
        );
    }

    /// The diagnostics in text order, without repeats, at most [`MAX_DIAGNOSTICS`] (one more
    /// then says how many were left out).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        // Stable: diagnostics at the same place keep the order the checks found them in.
        self.diagnostics.sort_by_key(|d| (d.line, d.column));
        let mut seen = HashSet::new();
        let mut unique: Vec<Diagnostic> = Vec::new();
        let mut left_out = 0;
        for d in self.diagnostics {
            if !seen.insert((d.line, d.column, d.message.clone(), d.hint.clone())) {
                continue;
            }
            if unique.len() < MAX_DIAGNOSTICS {
                unique.push(d);
            } else {
                left_out += 1;
            }
        }
        if left_out > 0
            && let Some(last) = unique.last()
        {
            let (file, line, column) = (last.file.clone(), last.line, last.column);
            unique.push(Diagnostic {
                file,
                line,
                column,
                message: format!("{left_out} more problems not listed"),
                hint: Some("fix the ones above first".to_string()),
            });
        }
        unique
    }
}
