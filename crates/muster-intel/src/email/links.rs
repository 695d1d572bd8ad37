//! Links of both bodies, the check of displayed text against the real target, and the list of
//! distinct URLs.

use linkify::{LinkFinder, LinkKind};

use super::headers::address_domain;
use super::report::{Link, LinkSource};
use super::site::{displayed_host, same_site, url_host};

/// An HTML link, with `text_mismatch` set when its text shows another site than its target.
pub(crate) fn html_link(href: String, text: String) -> Link {
    let text_mismatch = text_mismatch(&href, &text);
    Link {
        href,
        text: Some(text).filter(|text| !text.is_empty()),
        source: LinkSource::Html,
        text_mismatch,
    }
}

/// URLs written in plain text (with a scheme), at most `max`.
pub(crate) fn text_urls(text: &str, max: usize) -> Vec<String> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    finder
        .links(text)
        .map(|link| link.as_str())
        .filter(|url| is_absolute_url(url))
        .take(max)
        .map(str::to_string)
        .collect()
}

/// Text-body links: the target is what is shown, so there is nothing to mismatch.
pub(crate) fn text_link(url: String) -> Link {
    Link {
        href: url,
        text: None,
        source: LinkSource::Text,
        text_mismatch: false,
    }
}

/// `scheme://…`, the URLs that point at a network location.
pub(crate) fn is_absolute_url(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// Whether the displayed `text` is a URL, address or domain of another site than `href`.
fn text_mismatch(href: &str, text: &str) -> bool {
    let Some(shown) = displayed_host(text) else {
        return false;
    };
    let href = href.trim();
    let target = match href.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            let address = href[7..].split('?').next().unwrap_or_default();
            address_domain(address)
        }
        _ => url_host(href),
    };
    match target {
        Some(target) => !same_site(&shown, &target),
        // The text shows a site but the link goes somewhere without a host (script, data…).
        None => true,
    }
}

/// Appends `url` to `urls` unless already there.
pub(crate) fn push_distinct(urls: &mut Vec<String>, url: &str) {
    if !urls.iter().any(|known| known == url) {
        urls.push(url.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_text_is_not_a_mismatch() {
        let link = html_link(
            "https://www.example.org/a".into(),
            "https://www.example.org/b".into(),
        );
        assert!(!link.text_mismatch);
    }

    #[test]
    fn plain_text_is_not_a_mismatch() {
        assert!(!html_link("https://evil.example/".into(), "Click here".into()).text_mismatch);
        assert!(!html_link("https://evil.example/".into(), String::new()).text_mismatch);
    }

    #[test]
    fn url_text_with_a_scriptlike_target_is_a_mismatch() {
        assert!(html_link("javascript:go()".into(), "https://bank.example".into()).text_mismatch);
    }

    #[test]
    fn finds_text_urls() {
        let urls = text_urls(
            "See https://a.example/x?y=1, or mailto:x@y.example and www.b.example.",
            10,
        );
        assert_eq!(urls, ["https://a.example/x?y=1"]);
    }

    #[test]
    fn absolute_urls_have_a_scheme_and_authority() {
        assert!(is_absolute_url("https://a"));
        assert!(is_absolute_url("ftp://files.example/x"));
        assert!(!is_absolute_url("/relative"));
        assert!(!is_absolute_url("mailto:a@b"));
        assert!(!is_absolute_url("://x"));
    }
}
