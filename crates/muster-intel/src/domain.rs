//! Domain names checked against the compiled-in Public Suffix List.
//!
//! The list is the `psl` crate's copy of Mozilla's Public Suffix List (ICANN and private
//! sections), compiled into the binary: nothing is downloaded at build or run time, which
//! matters for air-gapped SOCs. A name is a *domain* here when it is syntactically a host
//! name and ends in a known public suffix with at least one label in front of it, so
//! `evil.co.uk` and `evil.zip` are domains, `co.uk`, `example.c` and `report.pdf` are not.

use std::borrow::Cow;

use psl::Psl;

/// Longest host name DNS allows, in bytes.
pub const MAX_DOMAIN_LEN: usize = 253;
/// Longest DNS label, in bytes.
pub const MAX_LABEL_LEN: usize = 63;

/// The registrable domain (`mail.evil.co.uk` → `evil.co.uk`), or `None` when `host` has no
/// known public suffix.
///
/// The input may be defanged (`mail[.]evil[.]co[.]uk`), upper-case, carry a trailing dot or
/// be an internationalised name (returned in punycode). IP addresses give `None`.
pub fn registered_domain(host: &str) -> Option<String> {
    let host = normalize_host(host)?;
    if host.parse::<std::net::IpAddr>().is_ok() || !is_host_name(&host) {
        return None;
    }
    let domain = psl::domain(host.as_bytes())?;
    if !domain.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(domain.as_bytes())
        .ok()
        .map(str::to_owned)
}

/// The host part of a URL, an email address or a bare host name, lower-cased.
///
/// `https://Mail.Evil.com:8443/x` → `mail.evil.com`, `bob@Evil.com` → `evil.com`,
/// `evil[.]com/path` → `evil.com`, `http://[2001:db8::1]/` → `2001:db8::1`. Defanged input is
/// refanged first. `None` when no host can be found or it is not a valid host.
pub fn domain_of(text: &str) -> Option<String> {
    let refanged = crate::defang::refang(text.trim());
    let text = refanged.trim();
    if text.is_empty() {
        return None;
    }
    if text.contains("://") {
        let url = url::Url::parse(text).ok()?;
        return match url.host()? {
            url::Host::Domain(d) => Some(d.trim_end_matches('.').to_ascii_lowercase()),
            url::Host::Ipv4(ip) => Some(ip.to_string()),
            url::Host::Ipv6(ip) => Some(ip.to_string()),
        };
    }
    let after_at = match text.rfind('@') {
        Some(at) => &text[at + 1..],
        None if text.contains(char::is_whitespace) => return None,
        None => text,
    };
    let host = after_at
        .split(['/', '?', '#', '>', ' ', '\t'])
        .next()
        .unwrap_or_default();
    let host = strip_port(host);
    let host = normalize_host(host)?;
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(ip.to_string());
    }
    if is_host_name(&host) {
        Some(host)
    } else {
        None
    }
}

/// Whether `name` is a domain: a valid host name of at least two labels whose last labels
/// form a known public suffix with a registrable label in front (`evil.com`, `a.b.co.uk`).
pub fn is_domain(name: &str) -> bool {
    let lowered = name.to_ascii_lowercase();
    is_host_name(&lowered) && has_registrable_part(lowered.as_bytes())
}

/// Whether `host` equals `parent` or is one of its subdomains (`a.evil.com` under
/// `evil.com`); both are compared case-insensitively, on label boundaries.
pub fn is_subdomain_of(host: &str, parent: &str) -> bool {
    let host = host.trim_end_matches('.');
    let parent = parent.trim_end_matches('.');
    if parent.is_empty() || host.len() < parent.len() {
        return false;
    }
    let tail = &host.as_bytes()[host.len() - parent.len()..];
    tail.eq_ignore_ascii_case(parent.as_bytes())
        && (host.len() == parent.len() || host.as_bytes()[host.len() - parent.len() - 1] == b'.')
}

/// Whether the lower-case `label` is a top-level domain known to the Public Suffix List.
pub(crate) fn is_known_tld(label: &[u8]) -> bool {
    psl::List.find(std::iter::once(label)).typ.is_some()
}

/// Whether the lower-case `name` (no trailing dot) ends in a known public suffix and has a
/// registrable label in front of it, or is itself a suffix from the list's private section
/// (`s3.amazonaws.com`, `github.io`): those are real host names run by one company.
pub(crate) fn has_registrable_part(name: &[u8]) -> bool {
    if psl::domain(name).is_some_and(|d| d.suffix().is_known()) {
        return true;
    }
    name.contains(&b'.')
        && psl::suffix(name).is_some_and(|s| {
            s.typ() == Some(psl::Type::Private) && s.as_bytes().len() == name.len()
        })
}

/// Whether `host` (lower-case, ASCII) is a syntactically valid DNS host name: labels of
/// letters, digits, `-` and `_`, 1–63 bytes each, not starting or ending with `-`, at most
/// 253 bytes in all.
pub(crate) fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_DOMAIN_LEN
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Trims, refangs, lower-cases and strips a trailing dot and IPv6 brackets; converts
/// internationalised names to punycode.
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host: Cow<'_, str> = if host.contains(['[', '(', '{', '\\', ' ']) {
        Cow::Owned(crate::defang::refang(host))
    } else {
        Cow::Borrowed(host)
    };
    let host = host.trim().trim_end_matches('.');
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    if host.is_ascii() {
        return Some(host.to_ascii_lowercase());
    }
    match url::Host::parse(host).ok()? {
        url::Host::Domain(d) => Some(d),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

/// `evil.com:8080` → `evil.com`; leaves IPv6 addresses and bracketed hosts intact.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rfind(':') {
        Some(colon)
            if host[..colon].find(':').is_none()
                && host[colon + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..colon]
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domain_uses_the_public_suffix_list() {
        assert_eq!(
            registered_domain("mail.evil.co.uk").as_deref(),
            Some("evil.co.uk")
        );
        assert_eq!(
            registered_domain("WWW.Evil.COM.").as_deref(),
            Some("evil.com")
        );
        assert_eq!(
            registered_domain("a.b.evil[.]zip").as_deref(),
            Some("evil.zip")
        );
        assert_eq!(registered_domain("co.uk"), None);
        assert_eq!(registered_domain("example.c"), None);
        assert_eq!(registered_domain("report.pdf"), None);
        assert_eq!(registered_domain("203.0.113.7"), None);
        assert_eq!(registered_domain(""), None);
        assert_eq!(registered_domain("bad host.com"), None);
        assert_eq!(
            registered_domain("bücher.de").as_deref(),
            Some("xn--bcher-kva.de")
        );
    }

    #[test]
    fn domain_of_takes_urls_emails_and_bare_hosts() {
        assert_eq!(
            domain_of("https://Mail.Evil.com:8443/x?y=1").as_deref(),
            Some("mail.evil.com")
        );
        assert_eq!(
            domain_of("hxxps[://]evil[.]com/login").as_deref(),
            Some("evil.com")
        );
        assert_eq!(domain_of("Bob <bob@Evil.com>").as_deref(), Some("evil.com"));
        assert_eq!(domain_of("meow[at]evil(.)com").as_deref(), Some("evil.com"));
        assert_eq!(
            domain_of("evil.com/path/x.php").as_deref(),
            Some("evil.com")
        );
        assert_eq!(domain_of("evil.com:8080").as_deref(), Some("evil.com"));
        assert_eq!(
            domain_of("http://[2001:db8::1]/").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(domain_of("203.0.113.7:443").as_deref(), Some("203.0.113.7"));
        assert_eq!(domain_of("hello world"), None);
        assert_eq!(domain_of("   "), None);
        assert_eq!(domain_of("http://"), None);
    }

    #[test]
    fn is_domain_requires_a_known_suffix_and_a_registrable_label() {
        assert!(is_domain("evil.com"));
        assert!(is_domain("evil.zip"));
        assert!(is_domain("x.evil.co.uk"));
        assert!(!is_domain("report.pdf"));
        assert!(!is_domain("example.c"));
        assert!(!is_domain("co.uk"));
        assert!(!is_domain("-bad.com"));
        assert!(!is_domain("com"));
        assert!(is_domain("s3.amazonaws.com"));
        assert!(is_domain("github.io"));
    }

    #[test]
    fn subdomains_match_on_label_boundaries() {
        assert!(is_subdomain_of("a.evil.com", "evil.com"));
        assert!(is_subdomain_of("EVIL.com", "evil.COM"));
        assert!(!is_subdomain_of("notevil.com", "evil.com"));
        assert!(!is_subdomain_of("evil.com", ""));
    }
}
