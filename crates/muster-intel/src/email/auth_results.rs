//! `Authentication-Results` (RFC 8601) and `Received-SPF` (RFC 7208) parsing.
//!
//! The grammar is applied leniently: comments are dropped, unknown methods are kept, and a
//! malformed statement is skipped rather than failing the header.

use std::collections::BTreeMap;

use super::headers::address_domain;
use super::report::{AuthSummary, AuthVerdict, AuthenticationResults};

/// Parses one `Authentication-Results` value (unfolded).
pub(crate) fn parse_authentication_results(value: &str) -> AuthenticationResults {
    let text = strip_comments(value);
    let statements = split_outside_quotes(&text, ';');
    // The authserv-id may be missing in sloppy headers; then the first piece is a result.
    let authserv_id = statements
        .first()
        .and_then(|first| first.split_whitespace().next())
        .filter(|id| !id.contains('='))
        .map(str::to_string);
    let skip = usize::from(authserv_id.is_some());
    let results = statements[skip..]
        .iter()
        .filter_map(|statement| verdict(statement))
        .collect();
    AuthenticationResults {
        authserv_id,
        results,
    }
}

/// Parses a `Received-SPF` value: `pass (comment) client-ip=…; envelope-from=…`.
pub(crate) fn parse_received_spf(value: &str) -> Option<AuthVerdict> {
    let text = strip_comments(value);
    let mut words = text.split_whitespace();
    let result = words.next()?.trim_end_matches(';').to_ascii_lowercase();
    let mut properties = BTreeMap::new();
    for pair in split_outside_quotes(&text, ';')
        .iter()
        .flat_map(|part| split_outside_quotes(part, ' '))
    {
        if let Some((key, value)) = pair.split_once('=') {
            properties.insert(key.trim().to_ascii_lowercase(), unquote(value.trim()));
        }
    }
    let domain = properties
        .get("envelope-from")
        .and_then(|from| address_domain(from).or_else(|| non_empty_lower(from)))
        .or_else(|| {
            properties
                .get("helo")
                .and_then(|helo| non_empty_lower(helo))
        });
    Some(AuthVerdict {
        method: "spf".to_string(),
        result,
        domain,
        reason: None,
        properties,
    })
}

/// The verdicts of the topmost header that has SPF, DKIM or DMARC results; SPF falls back to
/// the topmost `Received-SPF`.
pub(crate) fn summary(
    headers: &[AuthenticationResults],
    received_spf: Option<AuthVerdict>,
) -> AuthSummary {
    let relevant = headers.iter().find(|header| {
        header
            .results
            .iter()
            .any(|verdict| matches!(verdict.method.as_str(), "spf" | "dkim" | "dmarc"))
    });
    let mut summary = AuthSummary::default();
    if let Some(header) = relevant {
        summary.spf = header
            .results
            .iter()
            .find(|verdict| verdict.method == "spf")
            .cloned();
        summary.dkim = header
            .results
            .iter()
            .filter(|verdict| verdict.method == "dkim")
            .cloned()
            .collect();
        summary.dmarc = header
            .results
            .iter()
            .find(|verdict| verdict.method == "dmarc")
            .cloned();
    }
    if summary.spf.is_none() {
        summary.spf = received_spf;
    }
    summary
}

fn verdict(statement: &str) -> Option<AuthVerdict> {
    let mut tokens = split_outside_quotes(statement, ' ').into_iter();
    let (method, result) = tokens.next()?.split_once('=').map(|(method, result)| {
        let method = method.split('/').next().unwrap_or(method);
        (
            method.trim().to_ascii_lowercase(),
            result.trim().to_ascii_lowercase(),
        )
    })?;
    if method.is_empty() || result.is_empty() {
        return None;
    }
    let mut reason = None;
    let mut properties = BTreeMap::new();
    for token in tokens {
        let Some((key, value)) = token.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = unquote(value.trim());
        if key == "reason" {
            reason = Some(value);
        } else {
            properties.insert(key, value);
        }
    }
    let domain = verdict_domain(&method, &properties);
    Some(AuthVerdict {
        method,
        result,
        domain,
        reason,
        properties,
    })
}

fn verdict_domain(method: &str, properties: &BTreeMap<String, String>) -> Option<String> {
    let get = |key: &str| properties.get(key).map(String::as_str);
    match method {
        "spf" => get("smtp.mailfrom")
            .and_then(|from| address_domain(from).or_else(|| non_empty_lower(from)))
            .or_else(|| get("smtp.helo").and_then(non_empty_lower)),
        "dkim" => get("header.d")
            .and_then(non_empty_lower)
            .or_else(|| get("header.i").and_then(address_domain)),
        "dmarc" => get("header.from")
            .and_then(|from| address_domain(from).or_else(|| non_empty_lower(from))),
        _ => None,
    }
}

/// A domain-looking value, lower-cased: placeholders such as `header.d=none` give `None`.
fn non_empty_lower(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('.');
    text.contains('.').then(|| text.to_ascii_lowercase())
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
        .replace("\\\"", "\"")
}

/// Removes `(comments)`, nested, outside quoted strings.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Splits on `separator` (white space when it is `' '`) outside double quotes; drops empty
/// pieces.
fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        let splits = if separator == ' ' {
            c.is_whitespace()
        } else {
            c == separator
        };
        if c == '"' {
            quoted = !quoted;
        }
        if splits && !quoted {
            if !current.trim().is_empty() {
                pieces.push(current.trim().to_string());
            }
            current.clear();
        } else {
            current.push(c);
        }
    }
    if !current.trim().is_empty() {
        pieces.push(current.trim().to_string());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_gmail_style_header() {
        let header = parse_authentication_results(
            "mx.google.com; dkim=pass header.i=@news.example.com header.s=s1 header.b=AbC; \
             spf=softfail (google.com: domain of transitioning bounce@mailer.example does not designate 203.0.113.9 as permitted sender) smtp.mailfrom=bounce@mailer.example; \
             dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=bank.example",
        );
        assert_eq!(header.authserv_id.as_deref(), Some("mx.google.com"));
        let summary = summary(&[header], None);
        let spf = summary.spf.unwrap();
        assert_eq!(
            (spf.result.as_str(), spf.domain.as_deref()),
            ("softfail", Some("mailer.example"))
        );
        assert_eq!(summary.dkim[0].domain.as_deref(), Some("news.example.com"));
        let dmarc = summary.dmarc.unwrap();
        assert_eq!(
            (dmarc.result.as_str(), dmarc.domain.as_deref()),
            ("fail", Some("bank.example"))
        );
    }

    #[test]
    fn keeps_reasons_and_versions() {
        let header = parse_authentication_results(
            "mx.example 1; dkim/1=fail reason=\"signature; verification failed\" header.d=a.example; none",
        );
        assert_eq!(header.results.len(), 1);
        assert_eq!(
            header.results[0].reason.as_deref(),
            Some("signature; verification failed")
        );
        assert_eq!(header.results[0].domain.as_deref(), Some("a.example"));
    }

    #[test]
    fn parses_received_spf() {
        let spf = parse_received_spf(
            "fail (mx.example: domain of x@evil.example does not designate 198.51.100.4 as permitted sender) client-ip=198.51.100.4; envelope-from=\"x@evil.example\"; helo=evil.example;",
        )
        .unwrap();
        assert_eq!(spf.result, "fail");
        assert_eq!(spf.domain.as_deref(), Some("evil.example"));
        assert_eq!(
            spf.properties.get("client-ip").map(String::as_str),
            Some("198.51.100.4")
        );
    }
}
