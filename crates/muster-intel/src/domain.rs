//! Domain names checked against the compiled-in Public Suffix List.

/// The registrable domain (`mail.evil.co.uk` → `evil.co.uk`), or `None` when `host` has no
/// known public suffix.
pub fn registered_domain(host: &str) -> Option<String> {
    unimplemented!("registered_domain {host}")
}

/// The host part of a URL, an email address or a bare host name, lower-cased.
pub fn domain_of(text: &str) -> Option<String> {
    unimplemented!("domain_of {text}")
}
