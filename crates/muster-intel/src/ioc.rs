//! Indicator extraction: finds IPs, domains, URLs, emails, hashes, CVEs, ATT&CK techniques,
//! ASNs, bitcoin addresses, file names, registry keys and MAC addresses in free text.
//!
//! How it works, and why it is fast and linear:
//! 1. If the text contains defanging notations, a refanged copy is made together with a map
//!    back to the original positions ([`crate::defang::refang_mapped`]); otherwise the text is
//!    used as it is.
//! 2. One pass splits the text into whitespace-delimited tokens with a byte-class table.
//!    Tokens without a digit, `.`, `:`, `@` or `\` (most words of prose) are skipped at once.
//! 3. In the remaining tokens, hand-written recognisers are tried at word starts. None of them
//!    backtracks: each looks at a bounded stretch of bytes (a domain at most 253, an email's
//!    local part at most 64), or consumes what it scans (URLs, registry keys).
//! 4. Found candidates are normalised into a reused buffer, filtered (types, allow-list,
//!    de-duplication) and only then allocated.
//!
//! Positions are byte offsets into the original text; `raw` is the original text between them.

mod addresses;
mod bitcoin;
mod extensions;
mod names;
mod options;
mod scan;
mod tokens;
mod url;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use options::{AllowList, AllowListError, ExtractOptions, IocTypeSet};

use crate::defang::{Refanged, refang_mapped};
use crate::net::{self, IpClass};
use scan::{Found, Norm, Origin, Sink};

/// The kinds of indicator the extractor knows. The serialised names are the type names of
/// `muster intel iocs --json` and of playbook outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IocType {
    /// `203.0.113.7`
    Ipv4,
    /// `2001:db8::1`, in canonical compressed form.
    Ipv6,
    /// `10.0.0.0/8`, `2001:db8::/32`
    Cidr,
    /// `evil.co.uk`, lower-cased; the suffix must be in the Public Suffix List.
    Domain,
    /// `https://evil.com/x?y=1`, or `evil.com/gate.php` when written without a scheme.
    Url,
    /// `meow@evil.com`; the domain part is lower-cased.
    Email,
    /// 32 hex digits, lower-cased.
    Md5,
    /// 40 hex digits, lower-cased.
    Sha1,
    /// 64 hex digits, lower-cased.
    Sha256,
    /// 128 hex digits, lower-cased.
    Sha512,
    /// `CVE-2021-44228`, upper-cased.
    Cve,
    /// MITRE ATT&CK technique or sub-technique: `T1059`, `T1059.001`.
    AttackTechnique,
    /// `AS13335` (also written `ASN 13335`).
    Asn,
    /// Legacy, script or segwit mainnet address with a valid checksum.
    Bitcoin,
    /// `invoice.pdf.exe`: a name with a known file extension.
    FileName,
    /// `HKLM\Software\Microsoft\Windows\CurrentVersion\Run`
    RegistryKey,
    /// `00:1a:2b:3c:4d:5e`, lower-case with colons.
    Mac,
}

impl IocType {
    /// Every type, in the order of this enum.
    pub const ALL: [IocType; 17] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Cidr,
        IocType::Domain,
        IocType::Url,
        IocType::Email,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::Sha512,
        IocType::Cve,
        IocType::AttackTechnique,
        IocType::Asn,
        IocType::Bitcoin,
        IocType::FileName,
        IocType::RegistryKey,
        IocType::Mac,
    ];

    /// The snake_case type name (`ipv4`, `attack_technique`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Cidr => "cidr",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5 => "md5",
            IocType::Sha1 => "sha1",
            IocType::Sha256 => "sha256",
            IocType::Sha512 => "sha512",
            IocType::Cve => "cve",
            IocType::AttackTechnique => "attack_technique",
            IocType::Asn => "asn",
            IocType::Bitcoin => "bitcoin",
            IocType::FileName => "file_name",
            IocType::RegistryKey => "registry_key",
            IocType::Mac => "mac",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for IocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown indicator type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown indicator type `{0}` (expected one of: ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512, cve, attack_technique, asn, bitcoin, file_name, registry_key, mac)"
)]
pub struct UnknownIocType(pub String);

impl FromStr for IocType {
    type Err = UnknownIocType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IocType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownIocType(s.to_owned()))
    }
}

/// Facts about an indicator beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// RFC 1918 or unique-local address (or a URL/CIDR on one).
    Private,
    /// Loopback address.
    Loopback,
    /// Link-local address.
    LinkLocal,
    /// Carrier-grade NAT shared address space.
    Cgnat,
    /// Documentation range (`203.0.113.0/24`, `2001:db8::/32`, …).
    Documentation,
    /// Multicast address.
    Multicast,
    /// Other reserved, non-routable space.
    Reserved,
    /// Written defanged in the input (`raw` differs from the refanged text).
    Defanged,
    /// The host of a URL, reported because `include_hosts` is on.
    FromUrl,
    /// The domain of an email address, reported because `include_hosts` is on.
    FromEmail,
}

impl From<IpClass> for Tag {
    fn from(class: IpClass) -> Self {
        match class {
            IpClass::Private => Tag::Private,
            IpClass::Loopback => Tag::Loopback,
            IpClass::LinkLocal => Tag::LinkLocal,
            IpClass::Cgnat => Tag::Cgnat,
            IpClass::Documentation => Tag::Documentation,
            IpClass::Multicast => Tag::Multicast,
            IpClass::Reserved => Tag::Reserved,
        }
    }
}

/// One indicator found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ioc {
    /// What kind of indicator this is.
    #[serde(rename = "type")]
    pub kind: IocType,
    /// The refanged, normalised value (`http://evil.com/x`, `evil.com`, lower-case hashes).
    pub value: String,
    /// The text exactly as written in the input (`hxxp://evil[.]com/x`).
    pub raw: String,
    /// Byte offset of `raw` in the input.
    pub start: usize,
    /// Byte offset just past `raw` in the input.
    pub end: usize,
    /// Range classes of IP addresses, and how the indicator was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// The result of an extraction, with a flag for when the result limit cut it short.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// Indicators in order of appearance.
    pub iocs: Vec<Ioc>,
    /// Whether extraction stopped at [`ExtractOptions::max_results`].
    pub truncated: bool,
}

/// Extracts indicators from `text`, in order of appearance.
pub fn extract(text: &str, options: &ExtractOptions) -> Vec<Ioc> {
    extract_detailed(text, options).iocs
}

/// Extracts indicators and groups their refanged values by type name, in order of
/// appearance: `{"ipv4": ["203.0.113.7"], "url": ["http://evil.example/x"]}`.
///
/// Only types that were found appear as keys.
pub fn extract_grouped(text: &str, options: &ExtractOptions) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ioc in extract(text, options) {
        grouped
            .entry(ioc.kind.as_str().to_owned())
            .or_default()
            .push(ioc.value);
    }
    grouped
}

/// Like [`extract`], and also says whether the result limit was reached.
pub fn extract_detailed(text: &str, options: &ExtractOptions) -> Extraction {
    let refanged = options.refang.then(|| refang_mapped(text));
    let scanned = refanged.as_ref().map_or(text, Refanged::as_str);
    let mut collector = Collector {
        original: text,
        refanged: refanged.as_ref().filter(|r| r.is_changed()),
        options,
        iocs: Vec::new(),
        seen: std::array::from_fn(|_| HashSet::new()),
        value: String::new(),
        truncated: false,
    };
    scan::scan(scanned, &mut collector);
    Extraction {
        iocs: collector.iocs,
        truncated: collector.truncated,
    }
}

/// Receives candidates from the scanner and turns the wanted ones into [`Ioc`]s.
struct Collector<'a> {
    original: &'a str,
    refanged: Option<&'a Refanged<'a>>,
    options: &'a ExtractOptions,
    iocs: Vec<Ioc>,
    seen: [HashSet<String>; IocType::ALL.len()],
    /// Reused buffer for the normalised value, so that rejected candidates cost nothing.
    value: String,
    truncated: bool,
}

impl Collector<'_> {
    fn to_original(&self, pos: usize) -> usize {
        self.refanged.map_or(pos, |r| r.to_original(pos))
    }

    fn allowed(&self, text: &str, found: &Found) -> bool {
        let allow = &self.options.allow;
        if allow.is_empty() {
            return false;
        }
        if let Some(ip) = found.ip
            && allow.contains_ip(ip)
        {
            return true;
        }
        if found.kind == IocType::Cidr
            && let Ok(net) = self.value.parse::<ipnet::IpNet>()
        {
            return allow.contains_net(&net);
        }
        let host = match (found.kind, found.host) {
            (_, Some((start, end))) => text.get(start..end),
            (IocType::Domain, None) => Some(self.value.as_str()),
            _ => None,
        };
        host.is_some_and(|h| allow.contains_domain(h))
    }
}

impl Sink for Collector<'_> {
    fn is_full(&self) -> bool {
        self.truncated
    }

    fn emit(&mut self, text: &str, found: Found) {
        if self.truncated || !self.options.types.contains(found.kind) {
            return;
        }
        if found.origin != Origin::Direct && !self.options.include_hosts {
            return;
        }
        let Some(written) = text.get(found.start..found.end) else {
            return;
        };
        self.value.clear();
        match found.norm {
            Norm::AsIs => self.value.push_str(written),
            Norm::Lower => {
                self.value.push_str(written);
                self.value.make_ascii_lowercase();
            }
            Norm::Upper => {
                self.value.push_str(written);
                self.value.make_ascii_uppercase();
            }
            Norm::LowerFrom(offset) => {
                self.value.push_str(written);
                if let Some(tail) = self.value.get_mut(offset..) {
                    tail.make_ascii_lowercase();
                }
            }
            Norm::Owned(ref owned) => self.value.push_str(owned),
        }
        if self.allowed(text, &found) {
            return;
        }
        let seen = &mut self.seen[found.kind.index()];
        if self.options.dedupe {
            if seen.contains(self.value.as_str()) {
                return;
            }
            seen.insert(self.value.clone());
        }
        let start = self.to_original(found.start);
        let end = self.to_original(found.end);
        let raw = self.original.get(start..end).unwrap_or(written);
        let mut tags: Vec<Tag> = Vec::new();
        if let Some(class) = found.ip.and_then(net::classify) {
            tags.push(class.into());
        }
        if raw != written {
            tags.push(Tag::Defanged);
        }
        match found.origin {
            Origin::Direct => {}
            Origin::UrlHost => tags.push(Tag::FromUrl),
            Origin::EmailDomain => tags.push(Tag::FromEmail),
        }
        self.iocs.push(Ioc {
            kind: found.kind,
            value: self.value.clone(),
            raw: raw.to_owned(),
            start,
            end,
            tags,
        });
        if self.iocs.len() >= self.options.max_results {
            self.truncated = true;
        }
    }
}
