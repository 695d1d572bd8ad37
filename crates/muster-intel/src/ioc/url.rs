//! Recognisers for URLs, with or without a scheme, and the hosts they carry.
//!
//! A URL runs to the first whitespace, quote, angle bracket, backtick, pipe, backslash, square
//! or curly bracket or non-ASCII character; then trailing `.,;:!?*` and closing parentheses
//! without an opening partner are dropped, so that prose (`see http://x.com/a.`), markdown
//! (`[t](http://x.com/a)`) and parentheses (`(http://x.com/a)`) end where the writer meant,
//! while `http://x.com/Foo_(bar)` keeps its balanced parenthesis.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::IocType;
use super::addresses::canonical_or_as_is;
use super::names::is_label_byte;
use super::scan::{Found, Norm, Origin, Scanner, Sink};
use crate::domain::MAX_DOMAIN_LEN;

const URL_SCHEMES: &[&[u8]] = &[
    b"http", b"https", b"ftp", b"ftps", b"sftp", b"ws", b"wss", b"smb",
];

/// HTML entities that end a URL copied out of escaped markup.
const URL_ENDING_ENTITIES: &[&[u8]] = &[b"&quot;", b"&gt;", b"&lt;", b"&#34;", b"&#39;", b"&apos;"];

/// Bytes that end a URL outright.
fn ends_url(c: u8) -> bool {
    c <= b' '
        || c >= 0x7f
        || matches!(
            c,
            b'"' | b'<' | b'>' | b'`' | b'|' | b'\\' | b'\'' | b'[' | b']' | b'{' | b'}' | b'^'
        )
}

impl<S: Sink> Scanner<'_, '_, S> {
    /// `scheme://host[:port][/path…]` starting at `j`.
    pub fn scheme_url(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        let scheme_end = j + b[j..]
            .iter()
            .take(7)
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if !b[scheme_end..].starts_with(b"://") {
            return None;
        }
        let scheme = &b[j..scheme_end];
        if !URL_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
            return None;
        }
        let authority_start = scheme_end + 3;
        let (host_start, host_end, host_ip, after_host) = self.authority(authority_start)?;
        let end = self.url_end(j, after_host, host_end);
        self.emit_url(j, end, host_start, host_end, host_ip);
        Some(end)
    }

    /// Parses `[userinfo@]host[:port]`; returns the host span, its address if it is one, and
    /// where the authority ends.
    fn authority(&self, from: usize) -> Option<(usize, usize, Option<IpAddr>, usize)> {
        let b = self.b;
        let mut end = from;
        let mut bracket = false;
        while end < b.len() {
            let c = b[end];
            if c == b'[' && (end == from || b[end - 1] == b'@') {
                bracket = true;
            } else if c == b']' && bracket {
                bracket = false;
            } else if matches!(c, b'/' | b'?' | b'#') || ends_url(c) {
                break;
            }
            end += 1;
        }
        let host_start = b[from..end]
            .iter()
            .rposition(|&c| c == b'@')
            .map_or(from, |p| from + p + 1);
        if b.get(host_start) == Some(&b'[') {
            let close = host_start + b[host_start..end].iter().position(|&c| c == b']')?;
            let ip = Ipv6Addr::from_str(self.text.get(host_start + 1..close)?).ok()?;
            return Some((host_start + 1, close, Some(IpAddr::V6(ip)), end));
        }
        let mut host_end = host_start
            + b[host_start..end]
                .iter()
                .position(|&c| c == b':')
                .unwrap_or(end - host_start);
        while host_end > host_start && b[host_end - 1] == b'.' {
            host_end -= 1;
        }
        let host = &b[host_start..host_end];
        if host.is_empty()
            || !host.iter().all(|&c| is_label_byte(c) || c == b'.')
            || host.len() > MAX_DOMAIN_LEN
        {
            return None;
        }
        let ip = if host.iter().all(|&c| c.is_ascii_digit() || c == b'.') {
            Some(IpAddr::V4(
                Ipv4Addr::from_str(self.text.get(host_start..host_end)?).ok()?,
            ))
        } else {
            None
        };
        Some((host_start, host_end, ip, end))
    }

    /// Where a URL that starts at `start` ends, given the end of its authority.
    fn url_end(&self, start: usize, after_authority: usize, host_end: usize) -> usize {
        let b = self.b;
        let mut end = after_authority
            + b[after_authority..]
                .iter()
                .position(|&c| ends_url(c))
                .unwrap_or(b.len() - after_authority);
        // Markup entities and a second URL glued on with a comma end the first one.
        if let Some(ampersand) = b[host_end..end].iter().position(|&c| c == b'&') {
            let from = host_end + ampersand;
            for entity in URL_ENDING_ENTITIES {
                if let Some(p) = find(&b[from..end], entity) {
                    end = from + p;
                }
            }
        }
        if let Some(p) = find(&b[host_end..end], b"://") {
            let scheme_start = host_end + p
                - b[host_end..host_end + p]
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
            if scheme_start > host_end && matches!(b[scheme_start - 1], b',' | b';') {
                end = scheme_start - 1;
            }
        }
        let span = &b[start..end];
        let opened = span.iter().filter(|&&c| c == b'(').count();
        let mut closed = span.iter().filter(|&&c| c == b')').count();
        while end > host_end {
            let drop = match b[end - 1] {
                b'.' | b',' | b';' | b':' | b'!' | b'?' | b'*' => true,
                b')' if closed > opened => {
                    closed -= 1;
                    true
                }
                _ => false,
            };
            if !drop {
                break;
            }
            end -= 1;
        }
        end
    }

    fn emit_url(
        &mut self,
        start: usize,
        end: usize,
        host_start: usize,
        host_end: usize,
        host_ip: Option<IpAddr>,
    ) {
        // `&amp;` is how `&` is written inside HTML attributes.
        let norm = match self.text.get(start..end) {
            Some(url) if url.contains("&amp;") => Norm::Owned(url.replace("&amp;", "&")),
            _ => Norm::AsIs,
        };
        let mut url = Found::new(IocType::Url, start, end, norm).with_host(host_start, host_end);
        if let Some(ip) = host_ip {
            url = url.with_ip(ip);
        }
        self.emit(url);
        match host_ip {
            Some(ip) => {
                let kind = if ip.is_ipv4() {
                    IocType::Ipv4
                } else {
                    IocType::Ipv6
                };
                let norm = if ip.is_ipv6() {
                    Norm::Owned(ip.to_string())
                } else {
                    canonical_or_as_is(self.text.get(host_start..host_end), ip)
                };
                self.emit(
                    Found::new(kind, host_start, host_end, norm)
                        .with_ip(ip)
                        .from(Origin::UrlHost),
                );
            }
            None => {
                if self.is_valid_domain(host_start, host_end, false) {
                    self.emit(
                        Found::new(IocType::Domain, host_start, host_end, Norm::Lower)
                            .from(Origin::UrlHost),
                    );
                }
            }
        }
    }

    /// A host written without a scheme and followed by `[:port]/path`: `evil.com/gate.php`.
    /// Returns the URL's end, or `None` when no path follows.
    pub(super) fn schemeless_url(
        &mut self,
        host_start: usize,
        host_end: usize,
        host_ip: Option<IpAddr>,
    ) -> Option<usize> {
        let b = self.b;
        // `//host/path` (protocol-relative, in HTML) is a URL; `/dir/host/path` is a path.
        let mut url_start = host_start;
        if host_start >= 2 && &b[host_start - 2..host_start] == b"//" {
            let before = host_start.checked_sub(3).map(|p| b[p]);
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b':' | b'.'))
            {
                return None;
            }
            url_start = host_start - 2;
        } else if host_start > 0 && matches!(b[host_start - 1], b'/' | b'\\') {
            return None;
        }
        let mut slash = host_end;
        if b.get(slash) == Some(&b':') {
            let port_end = self.digit_run_end(slash + 1);
            if port_end == slash + 1 || port_end - slash > 6 {
                return None;
            }
            slash = port_end;
        }
        if b.get(slash) != Some(&b'/')
            || !b.get(slash + 1).is_some_and(|&c| !ends_url(c) && c != b'/')
        {
            return None;
        }
        let end = self.url_end(url_start, slash, host_end);
        // A path of capitals only is a DNS log's `name/TYPE/CLASS`, not a URL path.
        let path = &b[slash + 1..end];
        if end <= slash + 1 || !path.iter().any(|&c| !(c.is_ascii_uppercase() || c == b'/')) {
            return None;
        }
        self.emit_url(url_start, end, host_start, host_end, host_ip);
        Some(end)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
