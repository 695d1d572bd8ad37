//! Which site a URL, address or displayed text points at, and whether two are the same site.
//!
//! Sites are compared by registered domain (`login.bank.example` and `bank.example` are the same
//! site), so that ordinary sub-domains are not reported as spoofing. Equal host names are
//! recognised without a Public Suffix List look-up.

use crate::domain::registered_domain;

/// The lower-cased host of an absolute URL, or of `www.…` text without a scheme.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let parsed = if has_scheme(url) {
        url::Url::parse(url).ok()?
    } else if url.len() > 4
        && url
            .get(..4)
            .is_some_and(|start| start.eq_ignore_ascii_case("www."))
    {
        url::Url::parse(&format!("http://{url}")).ok()?
    } else {
        return None;
    };
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .map_or(host.clone(), str::to_string);
    (!host.is_empty()).then_some(host)
}

/// Whether `text` starts with `scheme://` or `scheme:` of a known URL scheme.
pub(crate) fn has_scheme(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    !scheme.is_empty()
        && scheme.len() <= 10
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && (rest.starts_with("//")
            || matches!(
                scheme.to_ascii_lowercase().as_str(),
                "mailto" | "javascript" | "data" | "tel" | "file"
            ))
}

/// When the whole displayed text of a link is a URL or a domain name, the host it names.
/// A bare name counts as a domain only if it ends in a known public suffix, so that text such as
/// `Mr.Smith` is not taken for one.
pub(crate) fn displayed_host(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches(['.', ',', ';', ':', '!', '?']);
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some(host) = url_host(text) {
        return Some(host);
    }
    let host = text
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let host = host.rsplit_once('@').map_or(host, |(_, domain)| domain);
    if !looks_like_domain(host) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    registered_domain(&host).map(|_| host)
}

/// Labels of letters, digits and hyphens separated by dots, at least two labels, and a final
/// label of letters (or a punycode `xn--` label).
pub(crate) fn looks_like_domain(text: &str) -> bool {
    let mut labels = text.split('.').peekable();
    let mut count = 0;
    while let Some(label) = labels.next() {
        count += 1;
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return false;
        }
        if labels.peek().is_none() {
            let tld_ok = label.chars().all(char::is_alphabetic) || label.starts_with("xn--");
            return count >= 2 && label.chars().count() >= 2 && tld_ok;
        }
    }
    false
}

/// The registered domain of `host`, or the host itself when it has none (IP addresses,
/// unknown suffixes).
pub(crate) fn site_of(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    registered_domain(&host).unwrap_or(host)
}

/// Whether two hosts belong to the same site.
pub(crate) fn same_site(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('.');
    let b = b.trim_end_matches('.');
    a.eq_ignore_ascii_case(b) || site_of(a) == site_of(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_url_hosts() {
        assert_eq!(
            url_host("https://User@Login.Example.COM:8443/x?y"),
            Some("login.example.com".into())
        );
        assert_eq!(
            url_host("www.example.org/path"),
            Some("www.example.org".into())
        );
        assert_eq!(
            url_host("http://[2001:db8::1]/"),
            Some("2001:db8::1".into())
        );
        assert_eq!(url_host("/relative"), None);
        assert_eq!(url_host("click here"), None);
    }

    #[test]
    fn recognises_schemes() {
        assert!(has_scheme("https://a"));
        assert!(has_scheme("mailto:a@b"));
        assert!(!has_scheme("Note: read this"));
        assert!(!has_scheme("12:30"));
    }

    #[test]
    fn recognises_domain_shapes() {
        assert!(looks_like_domain("paypal.com"));
        assert!(looks_like_domain("xn--80ak6aa92e.xn--p1ai"));
        assert!(!looks_like_domain("1.2"));
        assert!(!looks_like_domain("single"));
        assert!(!looks_like_domain("a..b"));
    }

    #[test]
    fn equal_hosts_are_the_same_site_without_a_lookup() {
        assert!(same_site("Mail.Example.com.", "mail.example.com"));
    }
}
