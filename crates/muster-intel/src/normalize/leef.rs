//! IBM QRadar Log Event Extended Format (LEEF) lines, versions 1.0 and 2.0.
//!
//! `LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value…` and
//! `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|key=value<Delimiter>…`, optionally after
//! a syslog header. The 2.0 delimiter is one character or its hex code (`x09`, `0x5E`); when a
//! 2.0 line leaves the delimiter field out or empty, the tab is used, as in 1.0. Header fields
//! may escape `|` as `\|`. Each attribute splits at its first `=`.
//!
//! The result is a JSON object: `leef_version`, `vendor`, `product`, `product_version`,
//! `event_id`, `delimiter` (2.0), `attributes` (an object) and, when present, `syslog`.

use serde_json::{Map, Value};

use super::cef::{ParsedLine, find_marker};
use super::error::ParseError;
use super::syslog;

/// Parses one LEEF line.
pub fn parse(line: &str) -> Result<ParsedLine, ParseError> {
    let chars: Vec<char> = line.trim_end_matches(['\r', '\n']).chars().collect();
    let start = find_marker(&chars, "LEEF:").ok_or_else(|| {
        ParseError::at(
            1,
            "expected a LEEF line starting with `LEEF:` (after an optional syslog header)",
        )
    })?;
    let body_start = start + 5;
    let version_end = chars[body_start..]
        .iter()
        .position(|c| *c == '|')
        .map(|offset| body_start + offset)
        .ok_or_else(|| ParseError::at(chars.len() + 1, "the LEEF header ends after its version"))?;
    let version: String = chars[body_start..version_end].iter().collect();
    let version = version.trim().to_owned();
    let two = match version.as_str() {
        "1.0" | "1" => false,
        "2.0" | "2" => true,
        other => {
            return Err(ParseError::at(
                body_start + 1,
                format!("unsupported LEEF version `{other}`; expected 1.0 or 2.0"),
            ));
        }
    };

    // Vendor, product, version and event id, each ending with an unescaped `|`.
    let (header, mut position) = split_header(&chars, version_end + 1, 4);
    if header.len() < 4 {
        return Err(ParseError::at(
            chars.len() + 1,
            format!(
                "the LEEF header has {} of its 4 fields after the version (vendor, product, version, event id)",
                header.len()
            ),
        ));
    }
    let mut warnings = Vec::new();
    let mut delimiter = '\t';
    let mut object = Map::new();
    object.insert("leef_version".into(), Value::from(version.clone()));
    for (name, text) in ["vendor", "product", "product_version", "event_id"]
        .iter()
        .zip(&header)
    {
        object.insert((*name).into(), Value::String(text.clone()));
    }
    if two {
        // The delimiter field is present when another `|` follows.
        if let Some(offset) = chars[position..].iter().position(|c| *c == '|') {
            let spec: String = chars[position..position + offset].iter().collect();
            match parse_delimiter(&spec) {
                Ok(parsed) => {
                    if let Some(found) = parsed {
                        delimiter = found;
                    }
                    position += offset + 1;
                }
                // No delimiter field: the attributes start here and one of them holds a `|`.
                Err(_) if spec.contains('=') => {}
                Err(message) => return Err(ParseError::at(position + 1, message)),
            }
            object.insert("delimiter".into(), Value::String(delimiter.to_string()));
        } else {
            object.insert("delimiter".into(), Value::String(delimiter.to_string()));
        }
    }
    let attributes: String = chars[position.min(chars.len())..].iter().collect();
    object.insert(
        "attributes".into(),
        Value::Object(parse_attributes(&attributes, delimiter, &mut warnings)),
    );
    if let Some(header) = syslog::parse_header(&chars[..start].iter().collect::<String>()) {
        object.insert("syslog".into(), header);
    }
    Ok(ParsedLine {
        value: Value::Object(object),
        warnings,
    })
}

/// Reads up to `count` `|`-terminated fields from `from`; returns them and the index after.
fn split_header(chars: &[char], from: usize, count: usize) -> (Vec<String>, usize) {
    let mut fields = Vec::with_capacity(count);
    let mut current = String::new();
    let mut i = from;
    while i < chars.len() && fields.len() < count {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some('|') | Some('\\')) => {
                current.push(chars[i + 1]);
                i += 2;
            }
            '|' => {
                fields.push(std::mem::take(&mut current));
                i += 1;
            }
            c => {
                current.push(c);
                i += 1;
            }
        }
    }
    (fields, i)
}

/// A LEEF 2.0 delimiter: one character, `xHH` or `0xHH`; `None` for an empty field.
fn parse_delimiter(spec: &str) -> Result<Option<char>, String> {
    let mut chars = spec.chars();
    match (chars.next(), chars.next()) {
        (None, _) => return Ok(None),
        (Some(single), None) => return Ok(Some(single)),
        _ => {}
    }
    let hex = spec
        .strip_prefix("0x")
        .or_else(|| spec.strip_prefix("0X"))
        .or_else(|| spec.strip_prefix('x'))
        .or_else(|| spec.strip_prefix('X'))
        .ok_or_else(|| {
            format!("the LEEF delimiter `{spec}` is neither one character nor a hex code like x09")
        })?;
    u32::from_str_radix(hex, 16)
        .ok()
        .filter(|_| (1..=4).contains(&hex.len()))
        .and_then(char::from_u32)
        .map(Some)
        .ok_or_else(|| format!("the LEEF delimiter `{spec}` is not a valid hex character code"))
}

fn parse_attributes(text: &str, delimiter: char, warnings: &mut Vec<String>) -> Map<String, Value> {
    let mut attributes = Map::new();
    for part in text.split(delimiter) {
        if part.trim().is_empty() {
            continue;
        }
        match part.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                let key = key.trim().to_owned();
                if attributes
                    .insert(key.clone(), Value::String(value.to_owned()))
                    .is_some()
                {
                    warnings.push(format!(
                        "attribute `{key}` appears twice; the last value is kept"
                    ));
                }
            }
            _ => warnings.push(format!(
                "ignored attribute text without `key=`: \"{}\"",
                super::coerce::preview(part.trim())
            )),
        }
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_leef_1_with_tabs() {
        let parsed = parse("<13>Jan 18 11:07:53 qradar LEEF:1.0|Lancope|StealthWatch|1.0|41|src=10.0.1.8\tdst=10.0.0.5\tsev=5\tmsg=a=b c").unwrap();
        assert_eq!(
            parsed.value,
            json!({
                "leef_version": "1.0", "vendor": "Lancope", "product": "StealthWatch",
                "product_version": "1.0", "event_id": "41",
                "attributes": {"src": "10.0.1.8", "dst": "10.0.0.5", "sev": "5", "msg": "a=b c"},
                "syslog": {"priority": 13, "facility": 1, "severity": 5, "timestamp": "Jan 18 11:07:53", "host": "qradar"}
            })
        );
    }

    #[test]
    fn parses_leef_2_delimiters() {
        let caret =
            parse("LEEF:2.0|Vendor|Prod\\|uct|2.1|Login|^|usrName=jdoe^src=10.0.0.1").unwrap();
        assert_eq!(caret.value["product"], json!("Prod|uct"));
        assert_eq!(caret.value["delimiter"], json!("^"));
        assert_eq!(
            caret.value["attributes"],
            json!({"usrName": "jdoe", "src": "10.0.0.1"})
        );
        let hex = parse("LEEF:2.0|V|P|1|E|x7C|a=1|b=2").unwrap();
        assert_eq!(hex.value["attributes"], json!({"a": "1", "b": "2"}));
        let omitted = parse("LEEF:2.0|V|P|1|E|a=1\tb=2").unwrap();
        assert_eq!(omitted.value["attributes"], json!({"a": "1", "b": "2"}));
        let piped = parse("LEEF:2.0|V|P|1|E|a=1\tmsg=x|y").unwrap();
        assert_eq!(piped.value["attributes"], json!({"a": "1", "msg": "x|y"}));
        let empty = parse("LEEF:2.0|V|P|1|E||a=1\tb=2").unwrap();
        assert_eq!(empty.value["attributes"], json!({"a": "1", "b": "2"}));
    }

    #[test]
    fn reports_bad_lines() {
        assert_eq!(parse("nope").unwrap_err().column, 1);
        assert!(
            parse("LEEF:3.0|V|P|1|E|")
                .unwrap_err()
                .message
                .contains("unsupported")
        );
        assert!(
            parse("LEEF:1.0|V|P")
                .unwrap_err()
                .message
                .contains("of its 4")
        );
        assert!(parse("LEEF:1.0").is_err());
        let bad = parse("LEEF:2.0|V|P|1|E|xZZ|a=1").unwrap_err();
        assert_eq!(bad.column, 18);
        let odd = parse("LEEF:1.0|V|P|1|E|junk\ta=1\ta=2").unwrap();
        assert_eq!(odd.warnings.len(), 2);
    }
}
