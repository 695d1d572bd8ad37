//! The SSRF guard: decides whether an outbound request may go to a URL and to the addresses
//! its host resolves to.
//!
//! Only http and https URLs, and only public addresses, unless an operator allows a range or a
//! host name (`[http] allow`). Cloud-metadata endpoints stay refused even inside an allowed
//! range or behind an allowed host name: only an entry naming the single address
//! (`169.254.169.254/32`) allows one, because a metadata endpoint hands out the machine's
//! cloud credentials.
//!
//! Literal addresses are checked here before a request is sent; names are checked by the
//! resolver ([`super::resolver`]) on the addresses it found, which are then the only ones the
//! connection may use.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use url::{Host, Url};

use super::addresses::{self, AddressKind};

/// Ranges and host names an operator lets outbound requests reach although they are not
/// public.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    nets: Vec<IpNet>,
    hosts: Vec<HostPattern>,
}

/// An exact host name, or `*.example.com` for every name below `example.com`.
#[derive(Debug, Clone, PartialEq)]
enum HostPattern {
    Exact(String),
    Below(String),
}

impl HostPattern {
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(name) => host == name,
            HostPattern::Below(parent) => host
                .strip_suffix(parent.as_str())
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Below(parent) => write!(f, "*.{parent}"),
        }
    }
}

/// An allow-list entry that is neither a range, an address nor a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{entry}` is not an address range (10.0.0.0/8), an address (127.0.0.1) or a host name \
     (intranet.example.com, *.corp.example.com)"
)]
pub struct AllowEntryError {
    pub entry: String,
}

impl AllowList {
    /// Parses entries like `10.0.0.0/8`, `127.0.0.1`, `fd00::/8`, `intranet.example.com` or
    /// `*.corp.example.com`.
    pub fn parse<I, S>(entries: I) -> Result<Self, AllowEntryError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = AllowList::default();
        for entry in entries {
            let text = entry.as_ref().trim();
            if text.is_empty() {
                continue;
            }
            let error = || AllowEntryError {
                entry: text.to_string(),
            };
            if let Ok(net) = IpNet::from_str(text) {
                list.nets.push(net.trunc());
            } else if let Ok(ip) = IpAddr::from_str(text.trim_matches(['[', ']'])) {
                list.nets.push(IpNet::from(ip));
            } else if let Some(parent) = text.strip_prefix("*.") {
                list.hosts
                    .push(HostPattern::Below(host_name(parent).ok_or_else(error)?));
            } else {
                list.hosts
                    .push(HostPattern::Exact(host_name(text).ok_or_else(error)?));
            }
        }
        Ok(list)
    }

    /// Allows loopback (`127.0.0.0/8` and `::1`), for tests against local servers.
    pub fn loopback() -> Self {
        Self::parse(["127.0.0.0/8", "::1/128"]).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.hosts.is_empty()
    }

    fn allows_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|pattern| pattern.matches(host))
    }

    fn allows_net(&self, ip: IpAddr) -> bool {
        let ip = addresses::effective(ip);
        self.nets.iter().any(|net| contains(net, ip))
    }

    /// Whether an entry names exactly this single address (`/32` or `/128`).
    fn names_address(&self, ip: IpAddr) -> bool {
        let ip = addresses::effective(ip);
        self.nets
            .iter()
            .any(|net| net.prefix_len() == net.max_prefix_len() && contains(net, ip))
    }
}

fn contains(net: &IpNet, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V4(net), IpAddr::V4(ip)) => net.contains(&ip),
        (IpNet::V6(net), IpAddr::V6(ip)) => net.contains(&ip),
        (IpNet::V6(net), IpAddr::V4(ip)) => net.contains(&ip.to_ipv6_mapped()),
        (IpNet::V4(_), IpAddr::V6(_)) => false,
    }
}

/// A host name as the URL parser normalises it (lower case, punycode), without a final dot.
fn host_name(text: &str) -> Option<String> {
    match Host::parse(text).ok()? {
        Host::Domain(name) if !name.is_empty() && !name.contains(['/', ':', '*', '@']) => {
            Some(normalise(&name))
        }
        _ => None,
    }
}

fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// A request the guard refused; a permanent failure whose text says how to allow it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("`{url}`: only http and https URLs are allowed")]
    Scheme { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    #[error(
        "refused to connect to `{host}`: it is a cloud metadata endpoint, which hands out the \
         machine's cloud credentials. An operator can allow it by listing the name itself in \
         `[http] allow` (or MUSTER_HTTP_ALLOW)"
    )]
    MetadataName { host: String },
    #[error(
        "refused to connect to {ip}{via}: it is a cloud metadata address, which hands out the \
         machine's cloud credentials. Metadata addresses are refused even inside allowed \
         ranges; an operator can allow this one by naming it on its own: `[http] allow = \
         [\"{single}\"]` (or MUSTER_HTTP_ALLOW={single})",
        via = via(host), single = single(*ip)
    )]
    Metadata { host: Option<String>, ip: IpAddr },
    #[error(
        "refused to connect to {ip}{via}: it is not a public address ({kind}), and outbound \
         requests may only reach public addresses. An operator can allow it in `[http] allow` (or \
         MUSTER_HTTP_ALLOW) with the range, e.g. \"{single}\"{or_host}",
        via = via(host), single = single(*ip), or_host = or_host(host)
    )]
    NonPublic {
        host: Option<String>,
        ip: IpAddr,
        kind: AddressKind,
    },
}

fn via(host: &Option<String>) -> String {
    match host {
        Some(host) => format!(" (the address of `{host}`)"),
        None => String::new(),
    }
}

fn or_host(host: &Option<String>) -> String {
    match host {
        Some(host) => format!(", or the host name \"{host}\""),
        None => String::new(),
    }
}

fn single(ip: IpAddr) -> String {
    match addresses::effective(ip) {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    }
}

/// The SSRF policy of the outbound client.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: AllowList,
}

impl Guard {
    pub fn new(allow: AllowList) -> Self {
        Self { allow }
    }

    /// Checks a URL before it is requested (the first request and every redirect): the
    /// scheme, metadata host names, and literal addresses, which no resolver sees.
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme {
                url: url.to_string(),
            });
        }
        match url.host() {
            None => Err(Refusal::NoHost {
                url: url.to_string(),
            }),
            Some(Host::Ipv4(ip)) => self.check_address(None, IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_address(None, IpAddr::V6(ip)),
            Some(Host::Domain(name)) => self.check_name(name),
        }
    }

    /// Checks a host name before it is resolved.
    pub fn check_name(&self, host: &str) -> Result<(), Refusal> {
        let host = normalise(host);
        if addresses::is_metadata_name(&host) && !self.allow.allows_host(&host) {
            return Err(Refusal::MetadataName { host });
        }
        Ok(())
    }

    /// Checks one address, found for `host` (or written literally when `host` is `None`).
    pub fn check_address(&self, host: Option<&str>, ip: IpAddr) -> Result<(), Refusal> {
        let host = host.map(normalise);
        if addresses::is_metadata(ip) {
            if self.allow.names_address(ip) {
                return Ok(());
            }
            return Err(Refusal::Metadata { host, ip });
        }
        let Some(kind) = addresses::non_public(ip) else {
            return Ok(());
        };
        let host_allowed = host.as_deref().is_some_and(|h| self.allow.allows_host(h));
        if host_allowed || self.allow.allows_net(ip) {
            return Ok(());
        }
        Err(Refusal::NonPublic { host, ip, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn guard(allow: &[&str]) -> Guard {
        Guard::new(AllowList::parse(allow).unwrap())
    }

    #[test]
    fn literal_non_public_addresses_are_refused_by_default() {
        let guard = guard(&[]);
        for text in [
            "http://127.0.0.1/",
            "http://localhost./",
            "http://10.0.0.1:8080/x",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://100.64.1.1/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://224.0.0.1/",
        ] {
            let u = url(text);
            if u.host_str() == Some("localhost.") {
                continue; // a name: the resolver checks it
            }
            assert!(guard.check_url(&u).is_err(), "{text}");
        }
        assert!(guard.check_url(&url("https://8.8.8.8/")).is_ok());
        assert!(guard.check_url(&url("https://api.example.com/")).is_ok());
    }

    #[test]
    fn only_http_and_https_are_allowed() {
        let guard = guard(&[]);
        for text in ["file:///etc/passwd", "ftp://example.com/", "gopher://x/"] {
            assert!(
                matches!(guard.check_url(&url(text)), Err(Refusal::Scheme { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn allowed_ranges_and_hosts_let_requests_through() {
        let guard = guard(&[
            "10.0.0.0/8",
            "127.0.0.1",
            "intranet.example.com",
            "*.corp.test",
        ]);
        assert!(guard.check_url(&url("http://10.20.30.40/")).is_ok());
        assert!(guard.check_url(&url("http://127.0.0.1/")).is_ok());
        assert!(guard.check_url(&url("http://[::ffff:10.0.0.1]/")).is_ok());
        assert!(guard.check_url(&url("http://127.0.0.2/")).is_err());
        assert!(guard.check_url(&url("http://192.168.0.1/")).is_err());
        let private: IpAddr = "192.168.1.5".parse().unwrap();
        assert!(
            guard
                .check_address(Some("intranet.example.com"), private)
                .is_ok()
        );
        assert!(
            guard
                .check_address(Some("INTRANET.example.com."), private)
                .is_ok()
        );
        assert!(guard.check_address(Some("a.b.corp.test"), private).is_ok());
        assert!(guard.check_address(Some("corp.test"), private).is_err());
        assert!(
            guard
                .check_address(Some("evil.example.com"), private)
                .is_err()
        );
    }

    #[test]
    fn metadata_stays_refused_inside_allowed_ranges_unless_named() {
        let wide = guard(&[
            "169.254.0.0/16",
            "100.64.0.0/10",
            "fd00::/8",
            "::ffff:0:0/96",
        ]);
        assert!(wide.check_url(&url("http://169.254.1.1/")).is_ok());
        for text in [
            "http://169.254.169.254/latest/meta-data/",
            "http://100.100.100.200/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            let refused = wide.check_url(&url(text)).unwrap_err();
            assert!(matches!(refused, Refusal::Metadata { .. }), "{text}");
            assert!(refused.to_string().contains("/32") || refused.to_string().contains("/128"));
        }
        let named = guard(&["169.254.169.254/32"]);
        assert!(named.check_url(&url("http://169.254.169.254/")).is_ok());
        let by_host = guard(&["intranet.example.com"]);
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(
            by_host
                .check_address(Some("intranet.example.com"), metadata)
                .is_err()
        );
    }

    #[test]
    fn metadata_names_are_refused_before_any_lookup() {
        let guard = guard(&[]);
        let refused = guard
            .check_url(&url("http://metadata.google.internal/computeMetadata/v1/"))
            .unwrap_err();
        assert!(matches!(refused, Refusal::MetadataName { .. }));
        assert!(
            guard
                .check_url(&url("http://Metadata.Google.Internal./"))
                .is_err()
        );
    }

    #[test]
    fn refusals_say_what_and_how_to_allow_it() {
        let refused = guard(&[])
            .check_address(Some("db.internal"), "10.1.2.3".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(refused.contains("10.1.2.3"), "{refused}");
        assert!(refused.contains("db.internal"), "{refused}");
        assert!(refused.contains("private"), "{refused}");
        assert!(refused.contains("[http] allow"), "{refused}");
        assert!(refused.contains("MUSTER_HTTP_ALLOW"), "{refused}");
    }

    #[test]
    fn bad_allow_entries_are_named() {
        for entry in ["10.0.0/8x", "http://x", "a b", "10.0.0.0/33", "*."] {
            let error = AllowList::parse([entry]).unwrap_err();
            assert_eq!(error.entry, entry);
        }
        let list = AllowList::parse(["10.1.2.3/8", " ", "[::1]"]).unwrap();
        assert!(list.allows_net("10.200.0.1".parse().unwrap()));
        assert!(list.allows_net("::1".parse().unwrap()));
    }
}
