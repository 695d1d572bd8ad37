//! Defanging and refanging of indicators.
//!
//! Analysts *defang* indicators so that nobody clicks them and no mail filter or chat client
//! turns them into live links: `hxxps[://]evil[.]com`, `meow[at]evil(.)com`. [`refang`]
//! undoes every usual notation; [`defang`] produces the canonical one. [`refang_mapped`] also
//! keeps a map from positions in the refanged text back to the original, so that extraction
//! can run on clean text and still report where each indicator was written.
//!
//! Unambiguous notations (anything in brackets, `hxxp`) are always refanged. Notations that
//! also occur in ordinary prose are refanged only where the result is an indicator:
//! - ` dot ` and `\.` only between labels of a name that ends in a known top-level domain
//!   (`evil dot com`, `evil\.co\.uk`) or between numbers (`10 dot 0 dot 0 dot 1`);
//! - ` at ` only in `user at domain dot tld`, i.e. when the domain after it is itself written
//!   with ` dot `, and not after a handful of words that often precede "at" in prose
//!   (`look at evil dot com` stays as it is).

use std::borrow::Cow;

/// Makes indicators in `text` safe to paste: `http` → `hxxp`, `://` → `[://]`, `.` → `[.]`,
/// `@` → `[@]`.
///
/// Only dots between two name characters (letters, digits, `-`, `_`) are bracketed, so a
/// sentence's full stop stays as it is; `@` is bracketed when it sits inside a word. `ftp`
/// becomes `fxp`. For text that contains no defanging notation already,
/// `refang(&defang(x)) == x`.
pub fn defang(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let (consumed, replacement): (usize, Cow<'static, str>) = match b[i] {
            b'.' if i > 0
                && is_name_byte(b[i - 1])
                && b.get(i + 1).is_some_and(|&n| is_name_byte(n)) =>
            {
                (1, Cow::Borrowed("[.]"))
            }
            b'@' if i > 0
                && !b[i - 1].is_ascii_whitespace()
                && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) =>
            {
                (1, Cow::Borrowed("[@]"))
            }
            b':' if b[i..].starts_with(b"://") => (3, Cow::Borrowed("[://]")),
            b'h' | b'H' if scheme_at(b, i, b"http") => {
                (4, Cow::Owned(swap_x(&text[i..i + 4], false)))
            }
            b'f' | b'F' if scheme_at(b, i, b"ftp") => {
                (3, Cow::Owned(swap_x(&text[i..i + 3], false)))
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&text[last..i]);
        out.push_str(&replacement);
        i += consumed;
        last = i;
    }
    out.push_str(&text[last..]);
    out
}

/// Undoes the usual defanging notations (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`, ` dot `,
/// `[:]`, `[://]`, `[@]`, ` at `, `\.`).
pub fn refang(text: &str) -> String {
    refang_mapped(text).into_string()
}

/// Refanged text plus the map back to positions in the original.
#[derive(Debug, Clone)]
pub struct Refanged<'a> {
    text: Cow<'a, str>,
    /// Pairs `(refanged position, original position)` at both ends of every replacement,
    /// in increasing order of both coordinates.
    breaks: Vec<(usize, usize)>,
}

impl<'a> Refanged<'a> {
    /// The refanged text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether any notation was replaced.
    pub fn is_changed(&self) -> bool {
        !self.breaks.is_empty()
    }

    /// The position in the original text that corresponds to byte `pos` of the refanged
    /// text. A replaced notation maps as a whole: the start of `.` that came from `[.]` maps
    /// to the `[`, the position after it to the position after the `]`.
    pub fn to_original(&self, pos: usize) -> usize {
        let idx = self
            .breaks
            .partition_point(|&(refanged, _)| refanged <= pos);
        match idx.checked_sub(1).map(|i| self.breaks[i]) {
            Some((refanged, original)) => original + (pos - refanged),
            None => pos,
        }
    }

    /// The refanged text, owned.
    pub fn into_string(self) -> String {
        self.text.into_owned()
    }
}

/// Refangs `text` and keeps the position map; borrows `text` when nothing needed refanging.
pub fn refang_mapped(text: &str) -> Refanged<'_> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut breaks = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        i += b[i..]
            .iter()
            .position(|&c| TRIGGERS[c as usize])
            .unwrap_or(b.len() - i);
        if i >= b.len() {
            break;
        }
        // Most triggers are spaces; only ` d…` and ` a…` can start a notation.
        if b[i] == b' ' && !matches!(b.get(i + 1).map(|c| c | 0x20), Some(b'd' | b'a')) {
            i += 1;
            continue;
        }
        let replaced = find_marker(b, i, last).and_then(|(start, end, kind)| {
            replacement_for(kind, b, start, end).map(|r| (start, end, r))
        });
        let Some((start, end, replacement)) = replaced else {
            i += 1;
            continue;
        };
        if breaks.is_empty() {
            out.reserve(text.len());
        }
        out.push_str(&text[last..start]);
        breaks.push((out.len(), start));
        out.push_str(&replacement);
        breaks.push((out.len(), end));
        last = end;
        i = end;
    }
    if breaks.is_empty() {
        return Refanged {
            text: Cow::Borrowed(text),
            breaks,
        };
    }
    out.push_str(&text[last..]);
    Refanged {
        text: Cow::Owned(out),
        breaks,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `[.]`, `(dot)`, … : always a dot.
    Dot,
    /// ` dot ` and `\.`: a dot only inside a name ending in a known TLD.
    DotInName,
    /// `[@]`, `(at)`, … : always an at sign.
    At,
    /// ` at `: an at sign only in `user at domain dot tld`.
    AtInAddress,
    /// `[:]`, `(:)`, `{:}`.
    Colon,
    /// `[://]`, `(://)`, `{://}`.
    SchemeSeparator,
    /// `[/]`.
    Slash,
    /// `hxxp`, `fxp` when followed by a scheme separator.
    Scheme,
}

/// Bytes at which a notation can be recognised: brackets, backslash, the `x` of `hxxp`/`fxp`,
/// and the space of ` dot ` / ` at `. Everything else is skipped with one table look-up.
static TRIGGERS: [bool; 256] = {
    let mut table = [false; 256];
    table[b'[' as usize] = true;
    table[b'(' as usize] = true;
    table[b'{' as usize] = true;
    table[b'\\' as usize] = true;
    table[b'x' as usize] = true;
    table[b'X' as usize] = true;
    table[b' ' as usize] = true;
    table
};

/// What may stand between brackets, and what it means.
const BRACKETED: &[(&[u8], Kind)] = &[
    (b"://", Kind::SchemeSeparator),
    (b"dot", Kind::Dot),
    (b".", Kind::Dot),
    (b"at", Kind::At),
    (b"@", Kind::At),
    (b":", Kind::Colon),
    (b"/", Kind::Slash),
];

/// The notation that the trigger byte at `i` belongs to, as `(start, end, kind)`; `last` is
/// where the previous replacement ended, so that notations never overlap.
#[inline]
fn find_marker(b: &[u8], i: usize, last: usize) -> Option<(usize, usize, Kind)> {
    let rest = &b[i..];
    match b[i] {
        b' ' => match rest.get(1).map(|c| c | 0x20) {
            Some(b'd') if starts_with_ignore_case(rest, b" dot ") => {
                Some((i, i + 5, Kind::DotInName))
            }
            Some(b'a') if starts_with_ignore_case(rest, b" at ") => {
                Some((i, i + 4, Kind::AtInAddress))
            }
            _ => None,
        },
        b'\\' => (rest.get(1) == Some(&b'.')).then_some((i, i + 2, Kind::DotInName)),
        b'x' | b'X' => {
            let start = i.checked_sub(1).filter(|&s| s >= last)?;
            let word = &b[start..];
            if starts_with_ignore_case(word, b"hxxp") {
                Some((start, start + 4, Kind::Scheme))
            } else if starts_with_ignore_case(word, b"fxp") {
                Some((start, start + 3, Kind::Scheme))
            } else {
                None
            }
        }
        open @ (b'[' | b'(' | b'{') => {
            let close = match open {
                b'[' => b']',
                b'(' => b')',
                _ => b'}',
            };
            let (inner, kind) = BRACKETED.iter().find(|(inner, kind)| {
                (open == b'[' || *kind != Kind::Slash)
                    && starts_with_ignore_case(&rest[1..], inner)
                    && rest.get(1 + inner.len()) == Some(&close)
            })?;
            let mut start = i;
            let mut end = i + inner.len() + 2;
            // `meow [at] evil [dot] com`: the spaces around a dot or at go with it.
            if matches!(kind, Kind::Dot | Kind::At) {
                if i > last && b[i - 1] == b' ' {
                    start = i - 1;
                }
                if b.get(end) == Some(&b' ') {
                    end += 1;
                }
            }
            Some((start, end, *kind))
        }
        _ => None,
    }
}

/// Words that often stand before "at" in prose; `look at evil dot com` is not an address.
const PROSE_BEFORE_AT: &[&str] = &[
    "me",
    "us",
    "you",
    "him",
    "her",
    "them",
    "it",
    "look",
    "looked",
    "looking",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "hosted",
    "located",
    "found",
    "available",
    "seen",
    "arrive",
    "arrived",
    "live",
    "lives",
    "work",
    "works",
    "worked",
    "stay",
    "aimed",
    "directed",
    "registered",
    "pointing",
    "points",
    "here",
    "there",
    "and",
    "or",
    "but",
    "only",
];

fn replacement_for(kind: Kind, b: &[u8], start: usize, end: usize) -> Option<Cow<'static, str>> {
    let text = Cow::Borrowed;
    match kind {
        Kind::Dot => Some(text(".")),
        Kind::At => Some(text("@")),
        Kind::Colon => Some(text(":")),
        Kind::SchemeSeparator => Some(text("://")),
        Kind::Slash => Some(text("/")),
        Kind::DotInName => {
            let left = *b.get(start.checked_sub(1)?)?;
            if !is_label_byte(left) {
                return None;
            }
            let chain = scan_chain(b, end)?;
            let ends_ok = chain.ends_in_tld || (chain.all_numeric && left.is_ascii_digit());
            ends_ok.then(|| text("."))
        }
        Kind::AtInAddress => {
            let word_start = b[..start]
                .iter()
                .rposition(|&c| !is_local_byte(c))
                .map_or(0, |p| p + 1);
            let word = b.get(word_start..start)?;
            if word.is_empty() || word.len() > 64 {
                return None;
            }
            let prose = PROSE_BEFORE_AT
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(word));
            let chain = scan_chain(b, end)?;
            (!prose && chain.ends_in_tld && chain.spelled_dot).then(|| text("@"))
        }
        Kind::Scheme => {
            let prev_ok = start == 0 || !b[start - 1].is_ascii_alphanumeric();
            let mut next = end;
            if b.get(next).is_some_and(|&c| c == b's' || c == b'S') {
                next += 1;
            }
            let next_ok = matches!(b.get(next), Some(b':' | b'[' | b'(' | b'{'));
            // The pattern is ASCII, so `start..end` lies on char boundaries.
            let written = std::str::from_utf8(&b[start..end]).ok()?;
            (prev_ok && next_ok).then(|| Cow::Owned(swap_x(written, true)))
        }
    }
}

/// What follows a dot-like marker: labels separated by dots in any notation.
struct Chain {
    ends_in_tld: bool,
    all_numeric: bool,
    /// Whether one of the separators was the spelled-out ` dot `.
    spelled_dot: bool,
}

/// Separators accepted between labels of a chain, longest first within each family.
const CHAIN_SEPARATORS: &[&[u8]] = &[
    b" [dot] ", b" (dot) ", b" {dot} ", b" [.] ", b" (.) ", b" {.} ", b"[dot]", b"(dot)", b"{dot}",
    b"[.]", b"(.)", b"{.}", b" dot ", b"\\.", b".",
];

fn scan_chain(b: &[u8], from: usize) -> Option<Chain> {
    let mut chain = Chain {
        ends_in_tld: false,
        all_numeric: true,
        spelled_dot: false,
    };
    let mut i = from;
    let mut last_label = (from, from);
    loop {
        let label_start = i;
        while i < b.len() && is_label_byte(b[i]) && i - label_start <= crate::domain::MAX_LABEL_LEN
        {
            i += 1;
        }
        if i == label_start {
            break;
        }
        last_label = (label_start, i);
        chain.all_numeric &= b[label_start..i].iter().all(u8::is_ascii_digit);
        if i - from > crate::domain::MAX_DOMAIN_LEN {
            return None;
        }
        let rest = &b[i..];
        let Some(sep) = CHAIN_SEPARATORS
            .iter()
            .find(|sep| starts_with_ignore_case(rest, sep))
        else {
            break;
        };
        if !b.get(i + sep.len()).is_some_and(|&c| is_label_byte(c)) {
            break;
        }
        chain.spelled_dot |= sep.eq_ignore_ascii_case(b" dot ");
        i += sep.len();
    }
    if last_label.0 == last_label.1 {
        return None;
    }
    let label = &b[last_label.0..last_label.1];
    if label.len() <= crate::domain::MAX_LABEL_LEN && !chain.all_numeric {
        let mut lower = [0u8; crate::domain::MAX_LABEL_LEN];
        let lower = &mut lower[..label.len()];
        lower.copy_from_slice(label);
        lower.make_ascii_lowercase();
        chain.ends_in_tld = crate::domain::is_known_tld(lower);
    }
    Some(chain)
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Whether `scheme` (lower-case) starts at `i`, at a word boundary, followed by an optional
/// `s` and `://`.
fn scheme_at(b: &[u8], i: usize, scheme: &[u8]) -> bool {
    if i > 0 && b[i - 1].is_ascii_alphanumeric() {
        return false;
    }
    let rest = &b[i..];
    if !starts_with_ignore_case(rest, scheme) {
        return false;
    }
    let mut after = &rest[scheme.len()..];
    if let Some(stripped) = after
        .strip_prefix(b"s")
        .or_else(|| after.strip_prefix(b"S"))
    {
        after = stripped;
    }
    after.starts_with(b"://")
}

/// `http` → `hxxp` and `ftp` → `fxp` keeping the case of every letter; the other way,
/// `hxxp`/`hXXp` → `http` and `HXXP` → `HTTP` (all capitals stay capitals).
fn swap_x(written: &str, refang: bool) -> String {
    if refang {
        let upper = written.bytes().all(|b| b.is_ascii_uppercase());
        let scheme = written.replace(['x', 'X'], "t");
        return if upper {
            scheme.to_ascii_uppercase()
        } else {
            scheme.to_ascii_lowercase()
        };
    }
    written
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            't' if i > 0 => 'x',
            'T' if i > 0 => 'X',
            _ => c,
        })
        .collect()
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refangs_every_listed_notation() {
        let cases = [
            ("hxxp://evil.com", "http://evil.com"),
            ("hxxps[://]evil[.]com/x", "https://evil.com/x"),
            ("hXXps[:]//evil(.)com", "https://evil.com"),
            ("evil{.}com", "evil.com"),
            ("evil[dot]com", "evil.com"),
            ("evil(DOT)com", "evil.com"),
            ("evil dot com", "evil.com"),
            ("evil\\.co\\.uk", "evil.co.uk"),
            ("10 dot 0 dot 0 dot 1", "10.0.0.1"),
            ("meow[@]evil[.]com", "meow@evil.com"),
            ("meow[at]evil(.)com", "meow@evil.com"),
            ("meow at evil dot com", "meow@evil.com"),
            ("meow [at] evil [dot] com", "meow@evil.com"),
            ("fxp://files[.]evil[.]com", "ftp://files.evil.com"),
            ("http[:]//1.2.3[.]4[/]x", "http://1.2.3.4/x"),
        ];
        for (input, expected) in cases {
            assert_eq!(refang(input), expected, "refang({input:?})");
        }
    }

    #[test]
    fn leaves_prose_alone() {
        let prose = [
            "Meet me at noon. Look at the dot on the map.",
            "we looked at evil dot com yesterday",
            "the dot product and the at sign",
            "C:\\Users\\bob\\.config and HKCR\\.exe",
            "hxxpd is not a scheme, nor is ahxxp://x",
            "plain text with evil.com and 10.0.0.1",
        ];
        for text in prose {
            let expected = text.replace("evil dot com", "evil.com");
            assert_eq!(refang(text), expected, "refang({text:?})");
        }
    }

    #[test]
    fn defang_brackets_dots_ats_and_schemes() {
        assert_eq!(
            defang("https://evil.com/a.php"),
            "hxxps[://]evil[.]com/a[.]php"
        );
        assert_eq!(defang("HTTP://EVIL.COM"), "HXXP[://]EVIL[.]COM");
        assert_eq!(defang("ftp://1.2.3.4"), "fxp[://]1[.]2[.]3[.]4");
        assert_eq!(defang("bob@evil.com"), "bob[@]evil[.]com");
        assert_eq!(defang("The end. @home"), "The end. @home");
        assert_eq!(defang("xhttp://a"), "xhttp[://]a");
    }

    #[test]
    fn positions_map_back_to_the_original() {
        let original = "see hxxps[://]evil[.]com now";
        let refanged = refang_mapped(original);
        assert_eq!(refanged.as_str(), "see https://evil.com now");
        let start = refanged.as_str().find("https").unwrap();
        let end = start + "https://evil.com".len();
        let (o_start, o_end) = (refanged.to_original(start), refanged.to_original(end));
        assert_eq!(&original[o_start..o_end], "hxxps[://]evil[.]com");
        let dot = refanged.as_str().find(".com").unwrap();
        assert_eq!(
            &original[refanged.to_original(dot)..refanged.to_original(dot + 1)],
            "[.]"
        );
    }

    #[test]
    fn unchanged_text_is_borrowed() {
        let refanged = refang_mapped("nothing to do here");
        assert!(!refanged.is_changed());
        assert!(matches!(refanged.text, Cow::Borrowed(_)));
        assert_eq!(refanged.to_original(5), 5);
    }
}
