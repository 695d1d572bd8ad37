//! Recognisers for indicators with a fixed shape: hashes, CVE ids, ATT&CK techniques, ASNs,
//! bitcoin addresses and Windows registry keys.

use super::IocType;
use super::bitcoin::{is_base58_address, is_bech32_address};
use super::scan::{Found, Norm, Scanner, Sink};

/// Registry hive names, long forms first so that `HKEY_…` is not read as `HK…`.
const REGISTRY_ROOTS: &[&[u8]] = &[
    b"HKEY_LOCAL_MACHINE",
    b"HKEY_CURRENT_USER",
    b"HKEY_CLASSES_ROOT",
    b"HKEY_CURRENT_CONFIG",
    b"HKEY_PERFORMANCE_DATA",
    b"HKEY_USERS",
    b"HKLM",
    b"HKCU",
    b"HKCR",
    b"HKCC",
    b"HKU",
];

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Bytes that end a registry key (a single space may not; see `key_continues`).
fn ends_key(c: u8) -> bool {
    c <= b' ' || c >= 0x7f || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'|' | b'`')
}

impl<S: Sink> Scanner<'_, '_, S> {
    /// A hex run of exactly 32, 40, 64 or 128 digits, as a whole word: never a piece of a
    /// longer hex or alphanumeric run. It must mix digits and letters, which real digests do
    /// with near certainty and long decimal numbers or words never do.
    pub fn hash(&mut self, j: usize, run_end: usize, strong: bool) -> Option<usize> {
        let kind = match run_end - j {
            32 => IocType::Md5,
            40 => IocType::Sha1,
            64 => IocType::Sha256,
            128 => IocType::Sha512,
            _ => return None,
        };
        let run = &self.b[j..run_end];
        let hex = run.iter().all(u8::is_ascii_hexdigit);
        let mixed = run.iter().any(u8::is_ascii_digit) && run.iter().any(u8::is_ascii_alphabetic);
        if !hex || !mixed || !self.ends_word(run_end) {
            return None;
        }
        self.emit(Found::new(kind, j, run_end, Norm::Lower));
        // Sandboxes name samples after their digest: `<sha256>.exe` is also a file name.
        if strong
            && self.b.get(run_end) == Some(&b'.')
            && let Some(end) = self.domain_or_file(j)
        {
            return Some(end);
        }
        Some(run_end)
    }

    /// A bitcoin address filling the alphanumeric run `[j, run_end)`, checksum verified.
    pub fn bitcoin(&mut self, j: usize, run_end: usize) -> Option<usize> {
        let run = &self.b[j..run_end];
        let (valid, norm) = match run.first() {
            Some(b'1' | b'3') => (is_base58_address(run), Norm::AsIs),
            Some(b'b' | b'B') => (is_bech32_address(run), Norm::Lower),
            _ => return None,
        };
        if !valid || !self.ends_word(run_end) {
            return None;
        }
        self.emit(Found::new(IocType::Bitcoin, j, run_end, norm));
        Some(run_end)
    }

    /// `CVE-YYYY-NNNN…`, any case, reported upper-case.
    pub fn cve(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        if !starts_with_ignore_case(&b[j..], b"CVE-") {
            return None;
        }
        let year_end = self.digit_run_end(j + 4);
        if year_end - (j + 4) != 4 || b.get(year_end) != Some(&b'-') {
            return None;
        }
        let number_end = self.digit_run_end(year_end + 1);
        if !(4..=7).contains(&(number_end - (year_end + 1))) || !self.ends_word(number_end) {
            return None;
        }
        self.emit(Found::new(IocType::Cve, j, number_end, Norm::Upper));
        Some(number_end)
    }

    /// `T1xxx` or `T1xxx.yyy` (enterprise techniques are numbered from T1001).
    pub fn attack_technique(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        let digits_end = self.digit_run_end(j + 1);
        if b.get(j) != Some(&b'T') || digits_end - (j + 1) != 4 || b[j + 1] != b'1' {
            return None;
        }
        let mut end = digits_end;
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            let sub_end = self.digit_run_end(end + 1);
            if sub_end - (end + 1) != 3 {
                return None;
            }
            end = sub_end;
        }
        if !self.ends_word(end) {
            return None;
        }
        self.emit(Found::new(IocType::AttackTechnique, j, end, Norm::AsIs));
        Some(end)
    }

    /// `AS13335`, `ASN13335`, `AS 13335`, `ASN: 13335` (the spaced forms in capitals only),
    /// reported as `AS13335`.
    pub fn asn(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        if !starts_with_ignore_case(&b[j..], b"AS") {
            return None;
        }
        let upper = b[j] == b'A' && b[j + 1] == b'S';
        let mut k = j + 2;
        if b.get(k) == Some(if upper { &b'N' } else { &b'n' }) {
            k += 1;
        }
        let mut spaced = false;
        if b.get(k) == Some(&b':') {
            k += 1;
            spaced = true;
        }
        if b.get(k) == Some(&b' ') {
            k += 1;
            spaced = true;
        }
        if spaced && !upper {
            return None;
        }
        let digits_end = self.digit_run_end(k);
        let digits = &b[k..digits_end];
        if !(1..=10).contains(&digits.len()) || (digits[0] == b'0' && digits.len() > 1) {
            return None;
        }
        let number = digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        let dotted = b.get(digits_end) == Some(&b'.')
            && b.get(digits_end + 1).is_some_and(u8::is_ascii_digit);
        if number > u64::from(u32::MAX) || dotted || !self.ends_word(digits_end) {
            return None;
        }
        self.emit(Found::new(
            IocType::Asn,
            j,
            digits_end,
            Norm::Owned(format!("AS{number}")),
        ));
        Some(digits_end)
    }

    /// `HKLM\…`, `HKEY_CURRENT_USER\…`, `HKCU:\…` (PowerShell). Key names may contain
    /// spaces (`Windows NT\CurrentVersion`); see `key_continues` for where a key stops.
    pub fn registry_key(&mut self, j: usize) -> Option<usize> {
        let b = self.b;
        // The kernel's names: `\REGISTRY\MACHINE\…`, `\REGISTRY\USER\…`.
        if b[j] == b'R' {
            let kernel_root = [&b"REGISTRY\\MACHINE"[..], b"REGISTRY\\USER"]
                .into_iter()
                .find(|root| b[j..].starts_with(root) && b.get(j + root.len()) == Some(&b'\\'))?;
            if j == 0 || b[j - 1] != b'\\' {
                return None;
            }
            let end = self.registry_key_body(j - 1, j + kernel_root.len())?;
            self.emit(Found::new(IocType::RegistryKey, j - 1, end, Norm::AsIs));
            return Some(end);
        }
        let root = REGISTRY_ROOTS.iter().find(|root| {
            starts_with_ignore_case(&b[j..], root) && {
                let after = &b[j + root.len()..];
                after.starts_with(b"\\") || after.starts_with(b":\\")
            }
        })?;
        let mut k = j + root.len();
        if b[k] == b':' {
            k += 1;
        }
        let end = self.registry_key_body(j, k)?;
        self.emit(Found::new(IocType::RegistryKey, j, end, Norm::AsIs));
        Some(end)
    }

    /// The end of a key that starts at `start` and whose root ends at `k` (on the `\\`).
    fn registry_key_body(&self, start: usize, mut k: usize) -> Option<usize> {
        let b = self.b;
        let j = start;
        let first_segment = k + 1;
        k = first_segment;
        loop {
            k += b[k..]
                .iter()
                .position(|&c| ends_key(c))
                .unwrap_or(b.len() - k);
            if b.get(k) == Some(&b' ') && self.key_continues(k + 1) {
                k += 1;
            } else {
                break;
            }
        }
        let span = &b[j..k];
        let open_parens = span.iter().filter(|&&c| c == b'(').count();
        let mut close_parens = span.iter().filter(|&&c| c == b')').count();
        let open_brackets = span.iter().filter(|&&c| c == b'[').count();
        let mut close_brackets = span.iter().filter(|&&c| c == b']').count();
        let mut end = k;
        while end > first_segment {
            let drop = match b[end - 1] {
                b'.' | b',' | b';' | b':' | b'\\' => true,
                b')' if close_parens > open_parens => {
                    close_parens -= 1;
                    true
                }
                b']' if close_brackets > open_brackets => {
                    close_brackets -= 1;
                    true
                }
                _ => false,
            };
            if !drop {
                break;
            }
            end -= 1;
        }
        (end > first_segment).then_some(end)
    }

    /// Whether the key goes on past the space before `p`: within the next few words one
    /// contains a backslash, and every word up to it is written like a key name (starts
    /// with a capital or digit: `Image File Execution Options\sethc.exe`), so that prose
    /// after a key (`…\Run and C:\x`, `/v Shell`) is left out.
    fn key_continues(&self, mut p: usize) -> bool {
        const MAX_WORDS: usize = 4;
        let b = self.b;
        for _ in 0..MAX_WORDS {
            let word_end = p + b[p..]
                .iter()
                .position(|&c| ends_key(c))
                .unwrap_or(b.len() - p);
            let word = &b[p..word_end];
            let drive_path = word.len() >= 3 && word[1] == b':' && word[2] == b'\\';
            let name_like = word
                .first()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !name_like || drive_path || starts_with_ignore_case(word, b"HK") {
                return false;
            }
            if word.contains(&b'\\') {
                return true;
            }
            if b.get(word_end) != Some(&b' ') {
                return false;
            }
            p = word_end + 1;
        }
        false
    }
}
