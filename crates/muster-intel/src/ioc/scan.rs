//! The single pass over the (refanged) text: tokenising, the quick skip of plain words, and
//! dispatch to the recognisers in [`super::url`], [`super::names`], [`super::addresses`] and [`super::tokens`] at word starts.
//!
//! Recognisers report candidates through [`Sink`] and return where their match ends; the
//! scan resumes there, so no byte is matched twice. Every recogniser either scans a bounded
//! number of bytes (a domain at most 253) or consumes what it scans, which keeps the whole
//! pass linear in the input size.

use std::net::IpAddr;

use super::IocType;

/// How the value of a candidate is derived from the text it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Norm {
    AsIs,
    Lower,
    Upper,
    /// Lower-case from this byte offset on (the domain of an email address).
    LowerFrom(usize),
    Owned(String),
}

/// Whether a candidate was written as such or is the host of a URL or email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Direct,
    UrlHost,
    EmailDomain,
}

/// One candidate, in positions of the scanned (refanged) text.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub kind: IocType,
    pub start: usize,
    pub end: usize,
    pub norm: Norm,
    /// The address, for IPs, CIDRs (network address) and URLs on an IP host.
    pub ip: Option<IpAddr>,
    /// The host span of a URL or email, for the allow-list.
    pub host: Option<(usize, usize)>,
    pub origin: Origin,
}

impl Found {
    pub fn new(kind: IocType, start: usize, end: usize, norm: Norm) -> Self {
        Found {
            kind,
            start,
            end,
            norm,
            ip: None,
            host: None,
            origin: Origin::Direct,
        }
    }

    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    pub fn with_host(mut self, start: usize, end: usize) -> Self {
        self.host = Some((start, end));
        self
    }

    pub fn from(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }
}

/// Where candidates go.
pub(crate) trait Sink {
    fn emit(&mut self, text: &str, found: Found);
    /// Whether no more candidates are wanted.
    fn is_full(&self) -> bool;
}

// Byte classes. A token is a maximal run of bytes without DELIM.
const DELIM: u8 = 1;
const DIGIT: u8 = 2;
const DOT: u8 = 4;
const COLON: u8 = 8;
const AT: u8 = 16;
const BACKSLASH: u8 = 32;
const SLASH: u8 = 64;
const DASH: u8 = 128;
/// A token without any of these holds no indicator (letters-only words, punctuation).
const INTERESTING: u8 = DIGIT | DOT | COLON | AT | BACKSLASH;

static CLASS: [u8; 256] = build_classes();

const fn build_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            0..=b' ' | 0x7f | b'"' | b'<' | b'>' | b'`' | b'|' => DELIM,
            b'0'..=b'9' => DIGIT,
            b'.' => DOT,
            b':' => COLON,
            b'@' => AT,
            b'\\' => BACKSLASH,
            b'/' => SLASH,
            b'-' => DASH,
            _ => 0,
        };
        i += 1;
    }
    table
}

/// Token features the recognisers are gated on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flags(u8);

impl Flags {
    pub fn digit(self) -> bool {
        self.0 & DIGIT != 0
    }
    pub fn dot(self) -> bool {
        self.0 & DOT != 0
    }
    pub fn colon(self) -> bool {
        self.0 & COLON != 0
    }
    pub fn at(self) -> bool {
        self.0 & AT != 0
    }
    pub fn backslash(self) -> bool {
        self.0 & BACKSLASH != 0
    }
    pub fn mac_separator(self) -> bool {
        self.0 & (COLON | DASH | DOT) != 0
    }
}

/// What precedes a candidate start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// Start of text, whitespace or punctuation other than `-`: any indicator may start.
    Strong,
    /// A `-`: only numbers-like indicators may start (`10.0.0.1-10.0.0.9`), names may not,
    /// since the name would have started before the dash.
    Weak,
}

/// The text being scanned and the sink; shared by all recognisers.
pub(crate) struct Scanner<'t, 's, S: Sink> {
    pub text: &'t str,
    pub b: &'t [u8],
    pub sink: &'s mut S,
}

/// Scans `text` and reports every candidate to `sink`.
pub(crate) fn scan<S: Sink>(text: &str, sink: &mut S) {
    let mut scanner = Scanner {
        text,
        b: text.as_bytes(),
        sink,
    };
    scanner.run();
}

impl<S: Sink> Scanner<'_, '_, S> {
    /// Jumps from one interesting byte (digit, `.`, `:`, `@`, `\\`) to the next; only the
    /// tokens around them are analysed, so plain words cost one table look-up per byte.
    fn run(&mut self) {
        let b = self.b;
        let n = b.len();
        // Bytes before `floor` belong to tokens already analysed or to matches.
        let mut floor = 0;
        let mut i = 0;
        while i < n {
            i += b[i..]
                .iter()
                .position(|&c| CLASS[c as usize] & INTERESTING != 0)
                .unwrap_or(n - i);
            if i >= n || self.sink.is_full() {
                return;
            }
            let mut start = i;
            while start > floor && CLASS[b[start - 1] as usize] & DELIM == 0 {
                start -= 1;
            }
            let mut end = start;
            let mut flags = 0u8;
            while end < n {
                let class = CLASS[b[end] as usize];
                if class & DELIM != 0 {
                    break;
                }
                flags |= class;
                end += 1;
            }
            if !self.may_hold_indicator(start, end, flags) {
                floor = end;
                i = end;
                continue;
            }
            let mut resume = end;
            // `AS 13335`, `**ASN 215540**`: the token holding `AS` has no digit.
            if start >= floor + 3 && b[start - 1] == b' ' && b[start].is_ascii_digit() {
                let mut prev = start - 1;
                while prev > floor && CLASS[b[prev - 1] as usize] & DELIM == 0 {
                    prev -= 1;
                }
                if let Some(asn_end) = self.spaced_asn(prev, start - 1) {
                    resume = resume.max(asn_end);
                    floor = resume;
                    i = resume;
                    continue;
                }
            }
            resume = resume.max(self.token(start, end, Flags(flags)));
            floor = resume;
            i = resume;
        }
    }

    /// Whether the token `[start, end)` can hold an indicator. A token whose only
    /// interesting bytes are dots and colons that end words (`steps.`, `Summary:`, `e.g.`
    /// excepted) cannot: every indicator with a dot or colon has a letter, digit, `/` or `:`
    /// right after one. This skips the full stops of prose cheaply.
    fn may_hold_indicator(&self, start: usize, end: usize, flags: u8) -> bool {
        if flags & (DIGIT | AT | BACKSLASH) != 0 {
            return true;
        }
        let b = self.b;
        (start..end).any(|k| {
            matches!(b[k], b'.' | b':')
                && b.get(k + 1).is_some_and(|&next| {
                    next.is_ascii_alphanumeric()
                        || matches!(next, b'_' | b':' | b'/')
                        || next >= 0x80
                })
        })
    }

    /// Tries the recognisers at every word start of the token `[start, end)`; returns where
    /// scanning resumes (past the token, or past a match that ran beyond it).
    fn token(&mut self, start: usize, end: usize, flags: Flags) -> usize {
        let b = self.b;
        let mut resume = end;
        let mut j = start;
        while j < end {
            let c = b[j];
            let starts_word = c.is_ascii_alphanumeric()
                || (c == b':' && b.get(j + 1) == Some(&b':'))
                || (c == b'_' && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric))
                || (c >= 0x80 && flags.dot() && self.starts_non_ascii_word(j));
            let boundary = if starts_word {
                self.boundary_before(j)
            } else {
                None
            };
            let Some(boundary) = boundary else {
                j += 1;
                continue;
            };
            match self.try_at(j, flags, boundary) {
                Some(matched_end) if matched_end > j => {
                    resume = resume.max(matched_end);
                    j = matched_end;
                    if self.sink.is_full() {
                        return resume;
                    }
                }
                // Positions inside a run of letters and digits never start a word.
                _ if c.is_ascii_alphanumeric() => j = self.alnum_run_end(j).min(end).max(j + 1),
                _ => j += 1,
            }
        }
        resume
    }

    fn try_at(&mut self, j: usize, flags: Flags, boundary: Boundary) -> Option<usize> {
        let b = self.b;
        let c = b[j];
        let strong = boundary == Boundary::Strong;
        match c {
            b':' => return if flags.colon() { self.ipv6(j) } else { None },
            // `_ldap._tcp.example.com`: service labels start with an underscore.
            b'_' => {
                return if strong && flags.dot() {
                    self.domain_or_file(j)
                } else {
                    None
                };
            }
            // A file name written in another script: `обновление.exe`.
            0x80.. => return if strong { self.domain_or_file(j) } else { None },
            _ => {}
        }
        if strong
            && flags.colon()
            && c.is_ascii_alphabetic()
            && let Some(end) = self.scheme_url(j)
        {
            return Some(end);
        }
        if strong
            && flags.backslash()
            && matches!(c, b'H' | b'h' | b'R')
            && let Some(end) = self.registry_key(j)
        {
            return Some(end);
        }
        if flags.digit() {
            let found = match c {
                b'C' | b'c' => self.cve(j),
                b'T' => self.attack_technique(j),
                b'A' | b'a' => self.asn(j),
                _ => None,
            };
            if found.is_some() {
                return found;
            }
            let run_end = self.alnum_run_end(j);
            if let Some(end) = self.hash(j, run_end, strong) {
                return Some(end);
            }
            if let Some(end) = self.bitcoin(j, run_end) {
                return Some(end);
            }
        }
        if c.is_ascii_hexdigit()
            && flags.mac_separator()
            && let Some(end) = self.mac(j)
        {
            return Some(end);
        }
        if c.is_ascii_hexdigit()
            && flags.colon()
            && let Some(end) = self.ipv6(j)
        {
            return Some(end);
        }
        if c.is_ascii_digit()
            && flags.dot()
            && let Some(end) = self.ipv4(j)
        {
            return Some(end);
        }
        if !strong {
            return None;
        }
        if flags.at()
            && let Some(end) = self.email(j)
        {
            return Some(end);
        }
        if flags.dot() {
            return self.domain_or_file(j);
        }
        None
    }

    /// An `AS`/`ASN` that ends the token `[start, end)` and is followed by ` <digits>`.
    fn spaced_asn(&mut self, start: usize, end: usize) -> Option<usize> {
        let at = [end.checked_sub(3), end.checked_sub(2)]
            .into_iter()
            .flatten()
            .find(|&p| p >= start && matches!(&self.b[p..end], b"ASN" | b"AS"))?;
        self.boundary_before(at)?;
        self.asn(at)
    }

    /// Whether a non-ASCII letter or digit starts at byte `j`.
    fn starts_non_ascii_word(&self, j: usize) -> bool {
        self.text
            .get(j..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(char::is_alphanumeric)
    }

    /// The boundary before position `j`, or `None` when `j` is inside a word (after a letter,
    /// digit, `_` or `.`, or after a non-ASCII letter).
    pub fn boundary_before(&self, j: usize) -> Option<Boundary> {
        let Some(&prev) = j.checked_sub(1).and_then(|p| self.b.get(p)) else {
            return Some(Boundary::Strong);
        };
        match prev {
            b'-' => Some(Boundary::Weak),
            b'_' | b'.' => None,
            p if p.is_ascii_alphanumeric() => None,
            p if p < 0x80 => Some(Boundary::Strong),
            _ => {
                let prev_char = self.text.get(..j)?.chars().next_back()?;
                (!prev_char.is_alphanumeric()).then_some(Boundary::Strong)
            }
        }
    }

    /// Whether an indicator may end just before `pos`: end of text, or a byte that is not a
    /// letter, digit or `_` (non-ASCII letters count as letters).
    pub fn ends_word(&self, pos: usize) -> bool {
        match self.b.get(pos) {
            None => true,
            Some(&c) if c < 0x80 => !(c.is_ascii_alphanumeric() || c == b'_'),
            Some(_) => self
                .text
                .get(pos..)
                .and_then(|rest| rest.chars().next())
                .is_none_or(|ch| !ch.is_alphanumeric()),
        }
    }

    /// End of the run of ASCII letters and digits starting at `j`.
    pub fn alnum_run_end(&self, j: usize) -> usize {
        self.b[j..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(self.b.len(), |p| j + p)
    }

    /// End of the run of digits starting at `j`.
    pub fn digit_run_end(&self, j: usize) -> usize {
        self.b[j.min(self.b.len())..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(self.b.len(), |p| j + p)
    }

    pub fn emit(&mut self, found: Found) {
        self.sink.emit(self.text, found);
    }
}
