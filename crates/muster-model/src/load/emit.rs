//! The canonical YAML form of a playbook.
//!
//! Deterministic by construction: document keys in the order of the struct fields, `inputs`
//! and `layout` sorted by name (they are `BTreeMap`s), option keys in the order the authors
//! wrote them, block style throughout (`{}` and `[]` for empty collections), two-space
//! indentation, `links` as `from.port -> to` strings. Strings are written plain when that
//! reads back as the same string, as block literals (`|`) when they span several lines, and
//! quoted otherwise; see [`scalar_style`]. Comments and anchors are not kept.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::scalar::{Plain, format_number, resolve_plain};

/// Longest key written as an implicit key; YAML limits those to 1024 characters.
const MAX_IMPLICIT_KEY: usize = 1000;

/// Writes `value` (a serialised playbook) as a YAML document.
pub(crate) fn document(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0),
        other => {
            scalar_or_empty(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

/// Writes the entries of a non-empty mapping, each starting at `indent`; the caller has
/// already written the indentation of the first one.
fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 {
            pad(out, indent);
        }
        if key.chars().count() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            quoted(out, key);
            out.push('\n');
            pad(out, indent);
            out.push(':');
        } else {
            key_text(out, key);
            out.push(':');
        }
        after_key(out, value, indent);
    }
}

/// Writes a value that follows `key:` (or `- `) at `indent`.
fn after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            mapping(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            sequence(out, items, indent + 2);
        }
        other => {
            out.push(' ');
            scalar_or_empty(out, other, indent);
            out.push('\n');
        }
    }
}

/// Writes the items of a non-empty list, each `- ` at `indent`; the caller has already
/// written the indentation of the first one.
fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => mapping(out, map, indent + 2),
            Value::Array(inner) if !inner.is_empty() => sequence(out, inner, indent + 2),
            other => {
                scalar_or_empty(out, other, indent);
                out.push('\n');
            }
        }
    }
}

/// Writes a scalar or an empty collection on the current line. Block literals continue on
/// the following lines, indented below `indent`.
fn scalar_or_empty(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(n)),
        Value::String(s) => string(out, s, indent),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    /// `"…"` without escapes.
    Double,
    /// `'…'`, for printable one-line strings holding `"` or `\`.
    Single,
    /// `"…"` with escapes, for what no other style can hold.
    Escaped,
    /// `|`, for printable multi-line text.
    Literal,
}

/// The style of a string value, by these rules in order:
/// 1. several lines of printable text → block literal (`|`, `|-` or `|+`);
/// 2. a string that reads back as itself unquoted and starts with no digit, YAML indicator
///    or space, holds no `: `, ` #` or `{{`/`{%`/`{#`, and is not a YAML 1.1 boolean → plain;
/// 3. printable text without `"` and `\` → double quotes;
/// 4. printable text → single quotes (`'` doubled);
/// 5. anything else → double quotes with escapes.
pub(crate) fn scalar_style(text: &str, allow_literal: bool) -> Style {
    if allow_literal && is_literal_candidate(text) {
        return Style::Literal;
    }
    let printable = text.chars().all(is_printable);
    if printable && can_be_plain(text) {
        return Style::Plain;
    }
    if printable && !text.contains(['"', '\\']) {
        return Style::Double;
    }
    if printable {
        return Style::Single;
    }
    Style::Escaped
}

fn string(out: &mut String, text: &str, indent: usize) {
    match scalar_style(text, true) {
        Style::Plain => out.push_str(text),
        Style::Double => {
            out.push('"');
            out.push_str(text);
            out.push('"');
        }
        Style::Single => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Style::Escaped => quoted(out, text),
        Style::Literal => literal(out, text, indent),
    }
}

fn key_text(out: &mut String, key: &str) {
    match scalar_style(key, false) {
        Style::Plain => out.push_str(key),
        Style::Double => {
            out.push('"');
            out.push_str(key);
            out.push('"');
        }
        Style::Single => {
            out.push('\'');
            out.push_str(&key.replace('\'', "''"));
            out.push('\'');
        }
        Style::Escaped | Style::Literal => quoted(out, key),
    }
}

/// Characters written as themselves; everything else is escaped in double quotes.
fn is_printable(c: char) -> bool {
    c == ' '
        || c.is_ascii_graphic()
        || (c as u32 >= 0xA0
            && !c.is_control()
            && !c.is_whitespace()
            && !matches!(c, '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'))
}

/// Multi-line text that a block literal holds exactly: every line printable (tabs allowed
/// after the indentation), no carriage return, no line made only of spaces, and not only
/// line breaks.
fn is_literal_candidate(text: &str) -> bool {
    text.contains('\n')
        && text.chars().any(|c| !c.is_whitespace())
        && text.split('\n').all(|line| {
            line.chars().all(|c| c == '\t' || is_printable(c)) && !is_blank_but_not_empty(line)
        })
}

fn is_blank_but_not_empty(line: &str) -> bool {
    !line.is_empty() && line.chars().all(|c| c == ' ' || c == '\t')
}

fn literal(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    out.push('|');
    // An explicit indentation is needed when the text itself starts with spaces or with
    // an empty line, where YAML would otherwise guess the indentation from the first
    // non-empty line.
    if body.starts_with(' ') || body.starts_with('\n') {
        out.push('2');
    }
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Double-quoted with escapes for everything that is not printable.
fn quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
}

/// Whether `text` may be written without quotes and read back as the same string.
fn can_be_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let indicator = matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
            | '.'
            | '+'
            | '~'
            | '<'
            | '='
    );
    !indicator
        && first != ' '
        && !first.is_ascii_digit()
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains("{{")
        && !text.contains("{%")
        && !text.contains("{#")
        && !is_yaml11_special(text)
        && matches!(resolve_plain(text), Plain::Value(Value::String(ref s)) if s == text)
}

/// Words other YAML readers (YAML 1.1) take for booleans, quoted so that every tool reads
/// the same string.
fn is_yaml11_special(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    )
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles() {
        for (text, style) in [
            ("POST", Style::Plain),
            ("https://fw.example.net/api/block", Style::Plain),
            ("alert -> normalize", Style::Plain),
            ("Hello world, again", Style::Plain),
            ("vpn-bruteforce", Style::Plain),
            ("héllo wörld ✓", Style::Plain),
            ("a#b", Style::Plain),
            ("{{ alert.body.src_ip }}", Style::Double),
            ("Hi {{ name }}", Style::Double),
            ("{{ alert[\"remote-ip\"] }}", Style::Single),
            ("C:\\temp", Style::Plain),
            ("- \"quoted\"", Style::Single),
            ("", Style::Double),
            ("123", Style::Double),
            ("1.5", Style::Double),
            ("10.0.0.1", Style::Double),
            ("true", Style::Double),
            ("yes", Style::Double),
            ("null", Style::Double),
            ("~", Style::Double),
            ("key: value", Style::Double),
            ("a #comment", Style::Double),
            ("- item", Style::Double),
            ("trailing ", Style::Double),
            (" leading", Style::Double),
            ("<<", Style::Double),
            ("tab\there", Style::Escaped),
            ("bell\u{7}", Style::Escaped),
            ("nbsp\u{a0}", Style::Escaped),
            ("line one\nline two", Style::Literal),
            ("one line\n", Style::Literal),
            ("crlf\r\nlines", Style::Escaped),
        ] {
            assert_eq!(scalar_style(text, true), style, "{text:?}");
        }
    }
}
