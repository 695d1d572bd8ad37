//! What to extract and how: types, de-duplication, URL and email hosts, allow-list, refang,
//! result limit. Deserialisable so that playbook actions can take the options as written in
//! YAML (`types: [ipv4, url]`, `allow: [example.com, 10.0.0.0/8]`).

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::IocType;

/// Default for [`ExtractOptions::max_results`].
pub const DEFAULT_MAX_RESULTS: usize = 100_000;

/// What to extract and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractOptions {
    /// Which types to report (default: all).
    pub types: IocTypeSet,
    /// Report each `(type, value)` once, at its first appearance (default: on).
    pub dedupe: bool,
    /// Also report the host of every URL and the domain of every email address as a
    /// `domain` (or `ipv4`/`ipv6` for IP hosts), tagged `from_url`/`from_email`
    /// (default: on). A host is reported only when it is itself a valid indicator, so
    /// `http://intranet/x` yields no domain.
    pub include_hosts: bool,
    /// Known-good values to drop: domains (with their subdomains), addresses and CIDR blocks.
    /// URLs and emails are dropped when their host is allowed.
    pub allow: AllowList,
    /// Understand defanged input (default: on). When off, `evil[.]com` is not found.
    pub refang: bool,
    /// Stop after this many indicators (default: 100,000), so that hostile input cannot make
    /// the result unbounded; [`super::extract_detailed`] reports when it happened.
    pub max_results: usize,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            types: IocTypeSet::all(),
            dedupe: true,
            include_hosts: true,
            allow: AllowList::default(),
            refang: true,
            max_results: DEFAULT_MAX_RESULTS,
        }
    }
}

impl ExtractOptions {
    /// Default options restricted to `types`.
    pub fn only(types: &[IocType]) -> Self {
        ExtractOptions {
            types: IocTypeSet::from_types(types),
            ..ExtractOptions::default()
        }
    }
}

/// A set of indicator types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<IocType>", into = "Vec<IocType>")]
pub struct IocTypeSet(u32);

impl IocTypeSet {
    /// Every type.
    pub fn all() -> Self {
        IocTypeSet::from_types(&IocType::ALL)
    }

    /// No type.
    pub fn empty() -> Self {
        IocTypeSet(0)
    }

    /// Exactly `types`.
    pub fn from_types(types: &[IocType]) -> Self {
        IocTypeSet(types.iter().fold(0, |bits, t| bits | 1 << t.index()))
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: IocType) -> bool {
        self.0 & (1 << kind.index()) != 0
    }

    /// The set with `kind` added.
    pub fn with(self, kind: IocType) -> Self {
        IocTypeSet(self.0 | 1 << kind.index())
    }

    /// The types in the set, in enum order.
    pub fn iter(self) -> impl Iterator<Item = IocType> {
        IocType::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

impl Default for IocTypeSet {
    fn default() -> Self {
        IocTypeSet::all()
    }
}

impl From<Vec<IocType>> for IocTypeSet {
    fn from(types: Vec<IocType>) -> Self {
        IocTypeSet::from_types(&types)
    }
}

impl From<IocTypeSet> for Vec<IocType> {
    fn from(set: IocTypeSet) -> Self {
        set.iter().collect()
    }
}

/// Known-good domains, addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct AllowList {
    /// Lower-case domains; a host matches when it or one of its parent domains is here.
    domains: HashSet<String>,
    networks: Vec<IpNet>,
    /// The entries as given, for serialisation.
    entries: Vec<String>,
}

/// An allow-list entry that is neither a domain, an address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allow-list entry {index} `{entry}` is not a domain, an IP address or a CIDR block")]
pub struct AllowListError {
    /// Zero-based position of the entry.
    pub index: usize,
    /// The entry as given.
    pub entry: String,
}

impl AllowList {
    /// Parses entries such as `example.com`, `*.example.com`, `10.0.0.0/8`, `203.0.113.7`.
    pub fn new<I, S>(entries: I) -> Result<Self, AllowListError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = AllowList::default();
        for (index, entry) in entries.into_iter().enumerate() {
            let entry = entry.as_ref();
            let error = || AllowListError {
                index,
                entry: entry.to_owned(),
            };
            let cleaned = crate::defang::refang(entry.trim());
            let cleaned = cleaned.trim();
            if cleaned.contains('/') || cleaned.parse::<IpAddr>().is_ok() {
                list.networks
                    .push(crate::net::parse_net(cleaned).map_err(|_| error())?);
            } else {
                let domain = cleaned
                    .trim_start_matches("*.")
                    .trim_start_matches('.')
                    .trim_end_matches('.')
                    .to_ascii_lowercase();
                if !crate::domain::is_host_name(&domain) {
                    return Err(error());
                }
                list.domains.insert(domain);
            }
            list.entries.push(entry.to_owned());
        }
        Ok(list)
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `host` or one of its parent domains is allowed.
    pub fn contains_domain(&self, host: &str) -> bool {
        if self.domains.is_empty() {
            return false;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut rest = host.as_str();
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => return false,
            }
        }
    }

    /// Whether `ip` lies in an allowed block.
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        self.networks
            .iter()
            .any(|net| crate::net::net_contains(net, ip))
    }

    /// Whether the whole of `net` lies in an allowed block.
    pub fn contains_net(&self, net: &IpNet) -> bool {
        self.networks.iter().any(|allowed| allowed.contains(net))
    }
}

impl TryFrom<Vec<String>> for AllowList {
    type Error = AllowListError;

    fn try_from(entries: Vec<String>) -> Result<Self, Self::Error> {
        AllowList::new(entries)
    }
}

impl From<AllowList> for Vec<String> {
    fn from(list: AllowList) -> Self {
        list.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_subdomains_and_networks() {
        let list = AllowList::new(["example.com", "*.corp.net", "10.0.0.0/8", "2001:db8::1"])
            .expect("valid entries");
        assert!(list.contains_domain("example.com"));
        assert!(list.contains_domain("WWW.Example.com."));
        assert!(list.contains_domain("a.corp.net"));
        assert!(!list.contains_domain("notexample.com"));
        assert!(list.contains_ip("10.9.8.7".parse().unwrap()));
        assert!(list.contains_ip("2001:db8::1".parse().unwrap()));
        assert!(!list.contains_ip("2001:db8::2".parse().unwrap()));
        assert!(list.contains_net(&"10.1.0.0/16".parse().unwrap()));
        assert!(!list.contains_net(&"0.0.0.0/0".parse().unwrap()));
    }

    #[test]
    fn allow_list_errors_name_the_entry() {
        let error = AllowList::new(["example.com", "not a domain"]).unwrap_err();
        assert_eq!(error.index, 1);
        assert!(error.to_string().contains("`not a domain`"), "{error}");
        assert!(AllowList::new(["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn options_deserialise_from_playbook_yaml_shape() {
        let json = r#"{"types": ["ipv4", "url"], "allow": ["example.com"], "dedupe": false}"#;
        let options: ExtractOptions = serde_json::from_str(json).expect("valid options");
        assert!(options.types.contains(IocType::Ipv4));
        assert!(!options.types.contains(IocType::Domain));
        assert!(!options.dedupe && options.refang && options.include_hosts);
        assert!(options.allow.contains_domain("a.example.com"));
        let bad = serde_json::from_str::<ExtractOptions>(r#"{"allow": ["a b"]}"#);
        assert!(bad.unwrap_err().to_string().contains("`a b`"));
        let unknown = serde_json::from_str::<ExtractOptions>(r#"{"typo": 1}"#);
        assert!(unknown.is_err());
    }
}
