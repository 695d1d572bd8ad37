//! The syslog header that often precedes CEF and LEEF payloads.
//!
//! Reads, best effort and without failing, the `<PRI>` part and either an RFC 5424 header
//! (`1 TIMESTAMP HOST APP PROCID MSGID`) or an RFC 3164 one (`MMM dd HH:MM:SS HOST`). What it
//! cannot place is kept as `prefix`.

use serde_json::{Map, Value};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses the text before the CEF/LEEF marker; `None` when it is blank.
pub(crate) fn parse_header(prefix: &str) -> Option<Value> {
    let mut rest = prefix.trim();
    if rest.is_empty() {
        return None;
    }
    let mut header = Map::new();
    if let Some(after) = rest.strip_prefix('<')
        && let Some((digits, tail)) = after.split_once('>')
        && let Ok(priority) = digits.parse::<u8>()
        && priority <= 191
        && !digits.is_empty()
        && digits.len() <= 3
    {
        header.insert("priority".into(), Value::from(priority));
        header.insert("facility".into(), Value::from(priority / 8));
        header.insert("severity".into(), Value::from(priority % 8));
        rest = tail.trim_start();
    }
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let dash_is_none = |token: &str| (token != "-").then(|| Value::from(token));
    let mut used = 0;
    if tokens.first() == Some(&"1") && tokens.len() >= 3 {
        // RFC 5424: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
        header.insert("version".into(), Value::from(1));
        if let Some(timestamp) = dash_is_none(tokens[1]) {
            header.insert("timestamp".into(), timestamp);
        }
        if let Some(host) = dash_is_none(tokens[2]) {
            header.insert("host".into(), host);
        }
        for (index, name) in [(3, "app"), (4, "procid"), (5, "msgid")] {
            if let Some(value) = tokens.get(index).and_then(|token| dash_is_none(token)) {
                header.insert(name.into(), value);
            }
        }
        used = tokens.len().min(6);
        // An empty structured-data part.
        if tokens.get(6) == Some(&"-") {
            used = 7;
        }
    } else if tokens.len() >= 3 && MONTHS.contains(&tokens[0]) && tokens[2].split(':').count() == 3
    {
        // RFC 3164: MMM dd HH:MM:SS [HOSTNAME]
        header.insert(
            "timestamp".into(),
            Value::from(format!("{} {} {}", tokens[0], tokens[1], tokens[2])),
        );
        used = 3;
        if let Some(host) = tokens.get(3) {
            header.insert("host".into(), Value::from(*host));
            used = 4;
        }
    } else if let Some(first) = tokens.first()
        && chrono::DateTime::parse_from_rfc3339(first).is_ok()
    {
        header.insert("timestamp".into(), Value::from(*first));
        used = 1;
        if let Some(host) = tokens.get(1) {
            header.insert("host".into(), Value::from(*host));
            used = 2;
        }
    }
    if used < tokens.len() {
        header.insert("prefix".into(), Value::from(tokens[used..].join(" ")));
    }
    (!header.is_empty()).then_some(Value::Object(header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_3164_5424_and_bare_headers() {
        assert_eq!(
            parse_header("<134>Jan 18 11:07:53 fw01 "),
            Some(
                json!({"priority": 134, "facility": 16, "severity": 6, "timestamp": "Jan 18 11:07:53", "host": "fw01"})
            )
        );
        assert_eq!(
            parse_header("<13>1 2024-01-15T10:21:33Z ids01 suricata - - - "),
            Some(
                json!({"priority": 13, "facility": 1, "severity": 5, "version": 1, "timestamp": "2024-01-15T10:21:33Z", "host": "ids01", "app": "suricata"})
            )
        );
        assert_eq!(
            parse_header("Jan 18 11:07:53 host1 tag: "),
            Some(json!({"timestamp": "Jan 18 11:07:53", "host": "host1", "prefix": "tag:"}))
        );
        assert_eq!(parse_header("  "), None);
        assert_eq!(
            parse_header("<999>junk"),
            Some(json!({"prefix": "<999>junk"}))
        );
    }
}
