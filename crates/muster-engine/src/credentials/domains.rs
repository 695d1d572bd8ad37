//! Allowed domains: where a credential may be sent. A pattern is a host name
//! (`api.example.com`), a wildcard for every subdomain (`*.example.com`, which does not match
//! `example.com` itself), or an IP address; ports are not part of a pattern.

/// Checks a pattern when a credential is written.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    let valid = !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{pattern}` is not a host name, `*.domain` wildcard or IP address"
        ))
    }
}

/// Whether `host` matches one of `patterns` (case-insensitive).
pub fn allowed(host: &str, patterns: &[String]) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    patterns.iter().any(|pattern| {
        let pattern = pattern
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == pattern,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_subdomains_only() {
        let patterns = vec!["*.virustotal.com".to_string(), "127.0.0.1".to_string()];
        assert!(allowed("www.virustotal.com", &patterns));
        assert!(allowed("API.eu.VirusTotal.com", &patterns));
        assert!(!allowed("virustotal.com", &patterns));
        assert!(!allowed("evilvirustotal.com", &patterns));
        assert!(!allowed("virustotal.com.evil.example", &patterns));
        assert!(allowed("127.0.0.1", &patterns));
        assert!(!allowed("127.0.0.2", &patterns));
        assert!(allowed("[::1]", &["::1".to_string()]));
    }

    #[test]
    fn patterns_are_checked() {
        for good in ["api.example.com", "*.example.com", "10.0.0.1", "::1"] {
            assert!(check_pattern(good).is_ok(), "{good}");
        }
        for bad in ["", "*.", "https://example.com", "exa mple.com", "*"] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }
}
