//! ArcSight Common Event Format (CEF) lines.
//!
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`,
//! optionally after a syslog header. In the header `\|` and `\\` are escapes; the extension is
//! `key=value` pairs separated by spaces, where values may contain spaces and `\=`, `\\`, `\n`
//! and `\r` are escapes. A key is a run of letters, digits, `_`, `.`, `-`, `[` or `]` that
//! starts the line or follows whitespace and is directly followed by an unescaped `=`; any other
//! `=` belongs to the value (so unescaped URLs with query strings survive).
//!
//! The result is a JSON object: `cef_version`, `device_vendor`, `device_product`,
//! `device_version`, `signature_id`, `name`, `severity`, `extensions` (an object) and, when
//! there is a syslog header, `syslog`.

use serde_json::{Map, Value};

use super::error::ParseError;
use super::syslog;

/// The seven header fields, in order, as named in the output.
const HEADER_FIELDS: [&str; 7] = [
    "cef_version",
    "device_vendor",
    "device_product",
    "device_version",
    "signature_id",
    "name",
    "severity",
];

/// A parsed line and what was odd about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// The line as a JSON object.
    pub value: Value,
    /// Tolerated oddities (duplicate keys, text without a key, …).
    pub warnings: Vec<String>,
}

/// Parses one CEF line.
pub fn parse(line: &str) -> Result<ParsedLine, ParseError> {
    let chars: Vec<char> = line.trim_end_matches(['\r', '\n']).chars().collect();
    let start = find_marker(&chars, "CEF:").ok_or_else(|| {
        ParseError::at(
            1,
            "expected a CEF line starting with `CEF:` (after an optional syslog header)",
        )
    })?;
    let mut warnings = Vec::new();
    let mut object = Map::new();
    let body_start = start + 4;

    // Split the header on unescaped pipes; the extension is everything after the 7th pipe.
    let mut fields: Vec<(usize, String)> = Vec::with_capacity(7);
    let mut current = String::new();
    let mut field_start = body_start;
    let mut i = body_start;
    let mut extension_start = None;
    while i < chars.len() {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some('|') | Some('\\')) => {
                current.push(chars[i + 1]);
                i += 2;
            }
            '|' => {
                fields.push((field_start, std::mem::take(&mut current)));
                i += 1;
                field_start = i;
                if fields.len() == 7 {
                    extension_start = Some(i);
                    break;
                }
            }
            c => {
                current.push(c);
                i += 1;
            }
        }
    }
    if fields.len() < 7 {
        return Err(ParseError::at(
            chars.len() + 1,
            format!(
                "the CEF header has {} of its 7 `|`-terminated fields (version, vendor, product, device version, signature id, name, severity)",
                fields.len()
            ),
        ));
    }
    let (version_column, version_text) = &fields[0];
    let version: u64 = version_text.trim().parse().map_err(|_| {
        ParseError::at(
            version_column + 1,
            format!("the CEF version `{version_text}` is not a number"),
        )
    })?;
    object.insert(HEADER_FIELDS[0].into(), Value::from(version));
    for (name, (_, text)) in HEADER_FIELDS.iter().zip(&fields).skip(1) {
        object.insert((*name).into(), Value::String(text.clone()));
    }
    let extension: &[char] = extension_start.map_or(&[], |from| &chars[from..]);
    object.insert(
        "extensions".into(),
        Value::Object(parse_extension(extension, &mut warnings)),
    );
    if let Some(header) = syslog::parse_header(&chars[..start].iter().collect::<String>()) {
        object.insert("syslog".into(), header);
    }
    Ok(ParsedLine {
        value: Value::Object(object),
        warnings,
    })
}

/// The character index where `marker` first occurs.
pub(crate) fn find_marker(chars: &[char], marker: &str) -> Option<usize> {
    let marker: Vec<char> = marker.chars().collect();
    chars
        .windows(marker.len())
        .position(|window| window == marker.as_slice())
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

fn parse_extension(chars: &[char], warnings: &mut Vec<String>) -> Map<String, Value> {
    // Positions of `=` that separate a key from its value: (key start, `=` position).
    let mut separators: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '=' => {
                let mut key_start = i;
                while key_start > 0 && is_key_char(chars[key_start - 1]) {
                    key_start -= 1;
                }
                let starts_token = key_start == 0 || chars[key_start - 1].is_whitespace();
                if key_start < i && starts_token {
                    separators.push((key_start, i));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut extensions = Map::new();
    let leading: String = chars[..separators.first().map_or(chars.len(), |s| s.0)]
        .iter()
        .collect();
    if !leading.trim().is_empty() {
        warnings.push(format!(
            "ignored extension text without a key: \"{}\"",
            super::coerce::preview(leading.trim())
        ));
    }
    for (index, &(key_start, equals)) in separators.iter().enumerate() {
        let value_end = separators.get(index + 1).map_or(chars.len(), |next| next.0);
        let key: String = chars[key_start..equals].iter().collect();
        let value = unescape_value(&chars[equals + 1..value_end]);
        let value = value.trim_end().to_owned();
        if extensions
            .insert(key.clone(), Value::String(value))
            .is_some()
        {
            warnings.push(format!(
                "extension key `{key}` appears twice; the last value is kept"
            ));
        }
    }
    extensions
}

fn unescape_value(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' {
            match chars.get(i + 1) {
                Some('=') => out.push('='),
                Some('\\') => out.push('\\'),
                Some('|') => out.push('|'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => {
                    out.push('\\');
                    out.push(*other);
                }
                None => out.push('\\'),
            }
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_header_escapes_and_extension_values() {
        let line = r"<134>Jan 18 11:07:53 fw01 CEF:0|Security|threat\|manager|1.0|100|detected a \\ in packet|10|src=10.0.0.1 act=blocked a \= dst=2.1.2.2 msg=Detected a threat. No action needed request=http://x.test/a?b=c&d=e cs1Label=Rule Name cs1=Block\nAll";
        let parsed = parse(line).unwrap();
        assert_eq!(parsed.warnings, Vec::<String>::new());
        assert_eq!(
            parsed.value,
            json!({
                "cef_version": 0,
                "device_vendor": "Security",
                "device_product": "threat|manager",
                "device_version": "1.0",
                "signature_id": "100",
                "name": "detected a \\ in packet",
                "severity": "10",
                "extensions": {
                    "src": "10.0.0.1",
                    "act": "blocked a =",
                    "dst": "2.1.2.2",
                    "msg": "Detected a threat. No action needed",
                    "request": "http://x.test/a?b=c&d=e",
                    "cs1Label": "Rule Name",
                    "cs1": "Block\nAll"
                },
                "syslog": {"priority": 134, "facility": 16, "severity": 6, "timestamp": "Jan 18 11:07:53", "host": "fw01"}
            })
        );
    }

    #[test]
    fn empty_extension_and_pipes_in_extension() {
        let parsed = parse("CEF:1|V|P|1|sig|Name|Low|").unwrap();
        assert_eq!(parsed.value["extensions"], json!({}));
        assert_eq!(parsed.value["cef_version"], json!(1));
        let piped = parse("CEF:0|V|P|1|sig|Name|3|msg=a|b c=d").unwrap();
        assert_eq!(piped.value["extensions"], json!({"msg": "a|b", "c": "d"}));
    }

    #[test]
    fn reports_bad_lines_with_columns() {
        let error = parse("hello").unwrap_err();
        assert_eq!((error.line, error.column), (1, 1));
        let error = parse("CEF:0|V|P|1|sig").unwrap_err();
        assert_eq!(error.column, 16);
        assert!(error.message.contains("4 of its 7"));
        let error = parse("xx CEF:zero|V|P|1|sig|Name|3|").unwrap_err();
        assert_eq!(error.column, 8);
    }

    #[test]
    fn tolerates_odd_extensions_with_warnings() {
        let parsed = parse(r"CEF:0|V|P|1|s|N|3|junk first=1 first=2 trailing\").unwrap();
        assert_eq!(parsed.value["extensions"], json!({"first": "2 trailing\\"}));
        assert_eq!(parsed.warnings.len(), 2);
    }
}
