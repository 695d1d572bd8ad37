//! Recognisers for addresses: IPv4 (with the version-number look-behind), IPv6, CIDR
//! blocks and MAC addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::IocType;
use super::names::is_label_byte;
use super::scan::{Found, Norm, Scanner, Sink};

impl<S: Sink> Scanner<'_, '_, S> {
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

/// The address's canonical text when it differs from what was written (leading zeros).
pub(super) fn canonical_or_as_is(written: Option<&str>, ip: IpAddr) -> Norm {
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
