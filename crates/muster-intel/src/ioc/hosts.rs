//! Recognisers for network indicators: URLs, emails, domains (and the file names they can be
//! confused with), IPv4, IPv6, CIDR blocks and MAC addresses.
//!
//! URL delimiting: a URL runs to the first whitespace, quote, angle bracket, backtick, pipe,
//! backslash, square or curly bracket or non-ASCII character; then trailing `.,;:!?*'` and
//! closing parentheses without an opening partner are dropped, so that prose
//! (`see http://x.com/a.`), markdown (`[t](http://x.com/a)`) and parentheses
//! (`(http://x.com/a)`) end where the writer meant, while `http://x.com/Foo_(bar)` keeps its
//! balanced parenthesis.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::IocType;
use super::extensions;
use super::scan::{Found, Norm, Origin, Scanner, Sink};
use crate::domain::{MAX_DOMAIN_LEN, MAX_LABEL_LEN, has_registrable_part, is_known_tld};

const URL_SCHEMES: &[&[u8]] = &[
    b"http", b"https", b"ftp", b"ftps", b"sftp", b"ws", b"wss", b"smb",
];

/// Top-level names reserved for private use or documentation, accepted in email addresses
/// (`alice@corp.local`) though not as bare domains.
const SPECIAL_USE_TLDS: &[&[u8]] = &[
    b"corp",
    b"example",
    b"home",
    b"internal",
    b"intranet",
    b"invalid",
    b"lan",
    b"local",
    b"localhost",
    b"test",
];

/// HTML entities that end a URL copied out of escaped markup.
const URL_ENDING_ENTITIES: &[&[u8]] = &[b"&quot;", b"&gt;", b"&lt;", b"&#34;", b"&#39;", b"&apos;"];

/// Longest file name most file systems allow.
const MAX_NAME_LEN: usize = 255;

/// A run of DNS labels separated by single dots.
struct LabelChain {
    end: usize,
    labels: usize,
    last_label_start: usize,
    second_last_label: Option<(usize, usize)>,
}

fn is_label_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Bytes that end a URL outright.
fn ends_url(c: u8) -> bool {
    c <= b' '
        || c >= 0x7f
        || matches!(
            c,
            b'"' | b'<' | b'>' | b'`' | b'|' | b'\\' | b'\'' | b'[' | b']' | b'{' | b'}' | b'^'
        )
}

impl LabelChain {
    /// End of the label before the last one.
    fn second_last_end(&self) -> usize {
        self.second_last_label.map_or(self.end, |(_, end)| end)
    }
}

impl<S: Sink> Scanner<'_, '_, S> {
    /// Labels from `j`: `[A-Za-z0-9_-]+` separated by dots; a trailing dot is not included.
    /// At most [`MAX_NAME_LEN`] bytes are looked at (the longest file name); DNS limits are
    /// checked later, for domains only.
    fn label_chain(&self, j: usize) -> Option<LabelChain> {
        let b = self.b;
        let mut i = j;
        let mut chain = LabelChain {
            end: j,
            labels: 0,
            last_label_start: j,
            second_last_label: None,
        };
        loop {
            let label_start = i;
            loop {
                let len = match b.get(i) {
                    Some(&c) if c < 0x80 => usize::from(is_label_byte(c)),
                    Some(_) => self.name_char_len(i).unwrap_or(0),
                    None => 0,
                };
                if len == 0 {
                    break;
                }
                i += len;
                if i - j > MAX_NAME_LEN {
                    return None;
                }
            }
            if i == label_start {
                break;
            }
            if chain.labels > 0 {
                chain.second_last_label = Some((chain.last_label_start, chain.end));
            }
            chain.labels += 1;
            chain.last_label_start = label_start;
            chain.end = i;
            if b.get(i) == Some(&b'.') && self.name_char_len(i + 1).is_some() {
                i += 1;
            } else {
                break;
            }
        }
        (chain.labels > 0).then_some(chain)
    }

    /// Length of the name character at `i`: an ASCII letter, digit, `-` or `_`, or a
    /// non-ASCII letter or digit (file names such as `обновление.exe`; such names are never
    /// domains, which must be written in punycode).
    fn name_char_len(&self, i: usize) -> Option<usize> {
        let &c = self.b.get(i)?;
        if c < 0x80 {
            return is_label_byte(c).then_some(1);
        }
        let ch = self.text.get(i..)?.chars().next()?;
        ch.is_alphanumeric().then(|| ch.len_utf8())
    }

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
    fn schemeless_url(
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

    /// Whether `[start, end)` is a domain: valid labels, a known public suffix with a
    /// registrable label, and a top-level label written in one case. Special-use names
    /// (`corp.local`) pass only when `special_use` is set.
    fn is_valid_domain(&self, start: usize, end: usize, special_use: bool) -> bool {
        let name = &self.b[start..end];
        if name.is_empty() || name.len() > MAX_DOMAIN_LEN || !name.is_ascii() {
            return false;
        }
        let mut lower = [0u8; MAX_DOMAIN_LEN];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let mut labels = lower.rsplit(|&c| c == b'.');
        let Some(tld) = labels.next() else {
            return false;
        };
        let registrable = labels.next().unwrap_or_default();
        let labels_ok = lower.split(|&c| c == b'.').all(|l| {
            !l.is_empty()
                && l.len() <= MAX_LABEL_LEN
                && l.first() != Some(&b'-')
                && l.last() != Some(&b'-')
        });
        let tld_written = &name[name.len() - tld.len()..];
        let one_case = tld_written.iter().all(u8::is_ascii_lowercase)
            || tld_written.iter().all(u8::is_ascii_uppercase);
        if !labels_ok
            || !one_case
            || tld.contains(&b'_')
            || registrable.contains(&b'_')
            || registrable.is_empty()
        {
            return false;
        }
        has_registrable_part(lower) || (special_use && SPECIAL_USE_TLDS.contains(&tld))
    }

    /// A dotted name at `j`: a domain (maybe the host of a scheme-less URL) or a file name,
    /// decided by the rule in [`extensions`].
    pub fn domain_or_file(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        // `%s.dat`, `%1.exe`: printf and batch placeholders, not names.
        if j > 0 && b[j - 1] == b'%' {
            return None;
        }
        let chain = self.label_chain(j)?;
        if chain.labels < 2 {
            return None;
        }
        let end = chain.end;
        // `logger.info(` and `r.json()` are method calls, not names.
        if !self.ends_word(end) || matches!(b.get(end), Some(b'@' | b'(')) {
            return Some(end);
        }
        let ext = &b[chain.last_label_start..end];
        if ext.len() > MAX_LABEL_LEN {
            return None;
        }
        let mut lower = [0u8; MAX_LABEL_LEN];
        let lower = &mut lower[..ext.len()];
        lower.copy_from_slice(ext);
        lower.make_ascii_lowercase();
        let is_ext = extensions::is_file_extension(lower);
        let is_tld = is_known_tld(lower);
        if is_ext {
            let after_path = j > 0 && matches!(b[j - 1], b'\\' | b'/');
            let double_ext = chain.labels >= 3 && self.second_last_is_extension(&chain);
            let file_first = extensions::is_file_first(lower) && chain.labels == 2;
            if !is_tld || after_path || double_ext || file_first {
                if !extensions::is_not_a_file(&b[j..end]) {
                    self.emit(Found::new(IocType::FileName, j, end, Norm::AsIs));
                }
                return Some(end);
            }
        }
        // An extension appended after a known one: `budget.xlsx.n0va`, `x.js.map`.
        if !is_tld && ext.len() <= 10 && chain.labels >= 3 && self.second_last_is_extension(&chain)
        {
            self.emit(Found::new(IocType::FileName, j, end, Norm::AsIs));
            return Some(end);
        }
        if !is_tld {
            return None;
        }
        if !self.is_valid_domain(j, end, false) {
            // `Rechnung_2026_03.zip` cannot be a domain, so it is the file it looks like.
            if is_ext {
                self.emit(Found::new(IocType::FileName, j, end, Norm::AsIs));
                return Some(end);
            }
            return None;
        }
        if chain.labels == 2 && is_code_receiver_or_initial(&b[j..chain.second_last_end()], lower) {
            return Some(end);
        }
        if let Some(url_end) = self.schemeless_url(j, end, None) {
            return Some(url_end);
        }
        self.emit(Found::new(IocType::Domain, j, end, Norm::Lower));
        Some(end)
    }

    fn second_last_is_extension(&self, chain: &LabelChain) -> bool {
        chain.second_last_label.is_some_and(|(start, end)| {
            let label = &self.b[start..end];
            let mut lower = [0u8; 16];
            label.len() <= lower.len() && {
                let lower = &mut lower[..label.len()];
                lower.copy_from_slice(label);
                lower.make_ascii_lowercase();
                extensions::is_file_extension(lower)
            }
        })
    }

    /// `local@domain` with the local part starting at `j`.
    pub fn email(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        let local_len = b[j..]
            .iter()
            .take(65)
            .take_while(|&&c| {
                c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
            })
            .count();
        let at = j + local_len;
        if local_len == 0 || local_len > 64 || b.get(at) != Some(&b'@') || b[at - 1] == b'.' {
            return None;
        }
        let chain = self.label_chain(at + 1)?;
        if chain.labels < 2 || !self.ends_word(chain.end) || b.get(chain.end) == Some(&b'@') {
            return None;
        }
        if !self.is_valid_domain(at + 1, chain.end, true) {
            return None;
        }
        let offset = at + 1 - j;
        self.emit(
            Found::new(IocType::Email, j, chain.end, Norm::LowerFrom(offset))
                .with_host(at + 1, chain.end),
        );
        if self.is_valid_domain(at + 1, chain.end, false) {
            self.emit(
                Found::new(IocType::Domain, at + 1, chain.end, Norm::Lower)
                    .from(Origin::EmailDomain),
            );
        }
        Some(chain.end)
    }

    /// Dotted-quad IPv4 at `j`, or a CIDR block, or the host of a scheme-less URL.
    pub fn ipv4(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        let mut octets = [0u8; 4];
        let mut i = j;
        for (n, octet) in octets.iter_mut().enumerate() {
            let digits_end = self.digit_run_end(i);
            if digits_end == i || digits_end - i > 3 {
                return None;
            }
            *octet = u8::try_from(parse_digits(&b[i..digits_end])).ok()?;
            i = digits_end;
            if n < 3 {
                if b.get(i) != Some(&b'.') {
                    return None;
                }
                i += 1;
            }
        }
        let end = i;
        // `1.2.3.4.5` and `10.0.19041.1` are versions, not addresses.
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        if !self.ends_word(end) || self.follows_version_word(j) {
            return None;
        }
        let ip = IpAddr::V4(Ipv4Addr::from(octets));
        if b.get(end) == Some(&b'/') {
            if let Some(prefix_end) = self.cidr_prefix(end, 32) {
                let prefix = parse_digits(&b[end + 1..prefix_end]);
                let norm = Norm::Owned(format!("{ip}/{prefix}"));
                self.emit(Found::new(IocType::Cidr, j, prefix_end, norm).with_ip(ip));
                return Some(prefix_end);
            }
            if let Some(url_end) = self.schemeless_url(j, end, Some(ip)) {
                return Some(url_end);
            }
        }
        if b.get(end) == Some(&b':')
            && let Some(url_end) = self.schemeless_url(j, end, Some(ip))
        {
            return Some(url_end);
        }
        let norm = canonical_or_as_is(self.text.get(j..end), ip);
        self.emit(Found::new(IocType::Ipv4, j, end, norm).with_ip(ip));
        Some(end)
    }

    /// Whether the words before `j` say that a dotted number is a version: a version word
    /// right before it (`version 1.2.3.4`, `build: 10.0.0.1`, `firmware=2.4.0.7`), or with one
    /// connecting word between (`upgrade to 8.10.185.0`, `firmware string 2.11.0.8`), or a
    /// product name and a slash as in user agents (`Chrome/122.0.0.0`).
    fn follows_version_word(&self, j: usize) -> bool {
        const VERSION_WORDS: &[&[u8]] = &[
            b"build",
            b"firmware",
            b"fw",
            b"kernel",
            b"patch",
            b"release",
            b"rev",
            b"revision",
            b"upgrade",
            b"upgraded",
            b"v",
            b"ver",
            b"version",
        ];
        const CONNECTORS: &[&[u8]] = &[b"from", b"is", b"number", b"of", b"string", b"to", b"was"];
        let before = &self.b[..j];
        if let Some(product) = before.strip_suffix(b"/") {
            let letters = product
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let name = &product[product.len() - letters..];
            let whole_word =
                product.len() == letters || !is_label_byte(product[product.len() - letters - 1]);
            if letters >= 2 && whole_word && !name.iter().all(u8::is_ascii_uppercase) {
                return true;
            }
        }
        let is_in = |list: &[&[u8]], word: &[u8]| list.iter().any(|w| w.eq_ignore_ascii_case(word));
        match previous_word(before) {
            Some((word, _)) if is_in(VERSION_WORDS, word) => true,
            Some((word, rest)) if is_in(CONNECTORS, word) => {
                previous_word(rest).is_some_and(|(word, _)| is_in(VERSION_WORDS, word))
            }
            _ => false,
        }
    }

    /// `/N` after an address at `slash`, with `N <= max`; returns the end of `N`.
    fn cidr_prefix(&self, slash: usize, max: u32) -> Option<usize> {
        let digits_end = self.digit_run_end(slash + 1);
        let len = digits_end - (slash + 1);
        if !(1..=3).contains(&len) || parse_digits(&self.b[slash + 1..digits_end]) > max {
            return None;
        }
        let next = self.b.get(digits_end);
        let dotted =
            next == Some(&b'.') && self.b.get(digits_end + 1).is_some_and(u8::is_ascii_digit);
        (self.ends_word(digits_end) && !dotted && next != Some(&b'/')).then_some(digits_end)
    }

    /// IPv6 at `j`, or an IPv6 CIDR block.
    pub fn ipv6(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        if (b[j] == b':' && j > 0 && b[j - 1] == b':') || self.inside_hex_group_run(j) {
            return None;
        }
        const MAX_LEN: usize = 45;
        let run = b[j..]
            .iter()
            .take(MAX_LEN + 1)
            .take_while(|&&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            .count();
        if run > MAX_LEN {
            return None;
        }
        let mut end = j + run;
        let run_end = end;
        while end > j && b[end - 1] == b'.' {
            end -= 1;
        }
        if end > j + 1 && b[end - 1] == b':' && b[end - 2] != b':' {
            end -= 1;
        }
        let written = &b[j..end];
        if written.iter().filter(|&&c| c == b':').count() < 2 || written == b"::" {
            return None;
        }
        if end == run_end && !self.ends_word(end) {
            return None;
        }
        let ip = Ipv6Addr::from_str(self.text.get(j..end)?).ok()?;
        let ip_any = IpAddr::V6(ip);
        if end == run_end
            && b.get(end) == Some(&b'/')
            && let Some(prefix_end) = self.cidr_prefix(end, 128)
        {
            let prefix = parse_digits(&b[end + 1..prefix_end]);
            let norm = Norm::Owned(format!("{ip}/{prefix}"));
            self.emit(Found::new(IocType::Cidr, j, prefix_end, norm).with_ip(ip_any));
            return Some(prefix_end);
        }
        self.emit(Found::new(IocType::Ipv6, j, end, Norm::Owned(ip.to_string())).with_ip(ip_any));
        Some(end)
    }

    /// Whether `j` follows `hex` + separator, i.e. lies inside a longer run of hex groups
    /// (`…:ab:cd:…`) whose start was already tried.
    fn inside_hex_group_run(&self, j: usize) -> bool {
        j >= 2 && matches!(self.b[j - 1], b':' | b'-' | b'.') && self.b[j - 2].is_ascii_hexdigit()
    }

    /// `00:1a:2b:3c:4d:5e`, `00-1A-2B-3C-4D-5E` or `001a.2b3c.4d5e` at `j`.
    pub fn mac(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        if self.inside_hex_group_run(j) {
            return None;
        }
        let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
        let mut digits = [0u8; 12];
        let end = match b.get(j + 2) {
            Some(&sep @ (b':' | b'-')) => {
                for group in 0..6 {
                    let at = j + group * 3;
                    if !(hex(at) && hex(at + 1)) || (group < 5 && b.get(at + 2) != Some(&sep)) {
                        return None;
                    }
                    digits[group * 2..group * 2 + 2].copy_from_slice(&b[at..at + 2]);
                }
                let end = j + 17;
                if b.get(end) == Some(&sep) && hex(end + 1) {
                    return None;
                }
                end
            }
            _ if b.get(j + 4) == Some(&b'.') => {
                for group in 0..3 {
                    let at = j + group * 5;
                    if !(0..4).all(|k| hex(at + k)) || (group < 2 && b.get(at + 4) != Some(&b'.')) {
                        return None;
                    }
                    digits[group * 4..group * 4 + 4].copy_from_slice(&b[at..at + 4]);
                }
                let end = j + 14;
                if b.get(end) == Some(&b'.')
                    && b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric)
                {
                    return None;
                }
                end
            }
            _ => return None,
        };
        if !self.ends_word(end) {
            return None;
        }
        let mut value = String::with_capacity(17);
        for (i, pair) in digits.chunks(2).enumerate() {
            if i > 0 {
                value.push(':');
            }
            value.extend(pair.iter().map(|&c| c.to_ascii_lowercase() as char));
        }
        self.emit(Found::new(IocType::Mac, j, end, Norm::Owned(value)));
        Some(end)
    }
}

/// First labels of `receiver.member` in code that would otherwise read as a domain whose
/// TLD is also an English word (`self.name`, `logger.info`, `this.app`, `cfg.zip`).
const CODE_RECEIVERS: &[&str] = &[
    "args", "app", "cfg", "client", "cls", "config", "console", "ctx", "data", "db", "document",
    "env", "err", "error", "event", "exports", "fh", "fp", "item", "kwargs", "log", "logger",
    "model", "module", "node", "obj", "options", "opts", "os", "params", "process", "props", "req",
    "request", "res", "response", "result", "self", "settings", "state", "sys", "this", "user",
    "util", "utils", "window",
];

/// Whether `first.tld` reads as code (`self.name`) or as an initial and a surname that
/// happens to be a brand TLD (`l.schmidt`, `m.weber`); short TLDs keep `t.co` and `x.com`.
fn is_code_receiver_or_initial(first: &[u8], tld: &[u8]) -> bool {
    (first.len() == 1 && tld.len() > 3) || CODE_RECEIVERS.iter().any(|r| r.as_bytes() == first)
}

/// The address's canonical text when it differs from what was written (leading zeros).
fn canonical_or_as_is(written: Option<&str>, ip: IpAddr) -> Norm {
    let canonical = ip.to_string();
    if written == Some(canonical.as_str()) {
        Norm::AsIs
    } else {
        Norm::Owned(canonical)
    }
}

/// The word of ASCII letters that ends `before` (after at most four spaces, quotes, `:` or
/// `=`), and the text in front of it.
fn previous_word(before: &[u8]) -> Option<(&[u8], &[u8])> {
    let gap = before
        .iter()
        .rev()
        .take(4)
        .take_while(|&&c| matches!(c, b' ' | b':' | b'=' | b'"' | b'\''))
        .count();
    let head = &before[..before.len() - gap];
    let letters = head
        .iter()
        .rev()
        .take(12)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let start = head.len() - letters;
    let whole = start == 0 || !head[start - 1].is_ascii_alphanumeric();
    (letters > 0 && whole).then(|| (&head[start..], &head[..start]))
}

/// Value of up to a few ASCII digits (callers bound the length).
fn parse_digits(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |n, &d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
