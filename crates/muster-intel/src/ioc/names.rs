//! Recognisers for dotted names: domains, the file names they can be confused with (the
//! rule is in [`super::extensions`]), and email addresses.

use super::IocType;
use super::extensions;
use super::scan::{Found, Norm, Origin, Scanner, Sink};
use crate::domain::{MAX_DOMAIN_LEN, MAX_LABEL_LEN, has_registrable_part, is_known_tld};

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

/// Longest file name most file systems allow.
const MAX_NAME_LEN: usize = 255;

/// A run of DNS labels separated by single dots.
struct LabelChain {
    end: usize,
    labels: usize,
    last_label_start: usize,
    second_last_label: Option<(usize, usize)>,
}

pub(super) fn is_label_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
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

    /// Whether `[start, end)` is a domain: valid labels, a known public suffix with a
    /// registrable label, and a top-level label written in one case. Special-use names
    /// (`corp.local`) pass only when `special_use` is set.
    pub(super) fn is_valid_domain(&self, start: usize, end: usize, special_use: bool) -> bool {
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
