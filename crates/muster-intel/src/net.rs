//! IP address classification: which special-purpose range an address belongs to (private,
//! loopback, documentation, …) and CIDR membership.
//!
//! The ranges are the IANA special-purpose registries for IPv4 and IPv6 (RFC 6890 and its
//! updates), reduced to the classes a SOC acts on. IPv4-mapped IPv6 addresses
//! (`::ffff:10.0.0.1`) are classified as the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The special-purpose range an address falls in. Public unicast addresses have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpClass {
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and IPv6 unique-local `fc00::/7`.
    Private,
    /// `127/8` and `::1`.
    Loopback,
    /// `169.254/16` and `fe80::/10`.
    LinkLocal,
    /// Carrier-grade NAT shared space `100.64/10` (RFC 6598).
    Cgnat,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `224/4` and `ff00::/8`.
    Multicast,
    /// Everything else that never routes on the internet: `0/8`, `192.0.0/24`, benchmarking
    /// `198.18/15`, `240/4`, broadcast, `::`, discard `100::/64`, site-local `fec0::/10`, …
    Reserved,
}

impl IpClass {
    /// The snake_case name used in tags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Private => "private",
            IpClass::Loopback => "loopback",
            IpClass::LinkLocal => "link_local",
            IpClass::Cgnat => "cgnat",
            IpClass::Documentation => "documentation",
            IpClass::Multicast => "multicast",
            IpClass::Reserved => "reserved",
        }
    }
}

/// A malformed argument to [`ip_in_cidr`] or [`parse_ip`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The address is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IP address")]
    InvalidIp(String),
    /// The network is neither a CIDR block (`10.0.0.0/8`) nor a single address.
    #[error("`{0}` is not a CIDR block (expected e.g. 10.0.0.0/8 or 2001:db8::/32)")]
    InvalidCidr(String),
}

/// Whether `ip` is private, loopback, link-local, CGNAT, reserved or documentation space;
/// `None` when `ip` is not an IP address.
///
/// Multicast counts as not public too. Surrounding spaces, IPv6 brackets and defanging
/// (`10[.]0[.]0[.]1`) are accepted.
pub fn is_private_ip(ip: &str) -> Option<bool> {
    parse_ip(ip).ok().map(|ip| classify(ip).is_some())
}

/// Whether `ip` lies in `cidr`; an error names whichever of the two is malformed.
///
/// `cidr` may also be a single address (`203.0.113.7` means `/32`). An IPv4 address is never
/// inside an IPv6 block and vice versa, except that IPv4-mapped IPv6 addresses are compared
/// as IPv4.
pub fn ip_in_cidr(ip: &str, cidr: &str) -> Result<bool, NetError> {
    let addr = parse_ip(ip)?;
    let net = parse_net(cidr)?;
    Ok(net_contains(&net, addr))
}

/// Parses an IPv4 or IPv6 address, tolerating surrounding spaces, brackets (`[::1]`) and
/// defanging.
pub fn parse_ip(text: &str) -> Result<IpAddr, NetError> {
    let refanged = crate::defang::refang(text.trim());
    let trimmed = refanged.trim();
    let bare = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(trimmed);
    IpAddr::from_str(bare).map_err(|_| NetError::InvalidIp(text.to_owned()))
}

/// Parses a CIDR block or a single address (as a host-sized block).
pub fn parse_net(text: &str) -> Result<IpNet, NetError> {
    let refanged = crate::defang::refang(text.trim());
    let trimmed = refanged.trim();
    if let Ok(net) = IpNet::from_str(trimmed) {
        return Ok(net);
    }
    parse_ip(trimmed)
        .map(IpNet::from)
        .map_err(|_| NetError::InvalidCidr(text.to_owned()))
}

/// Whether `net` contains `addr`, comparing IPv4-mapped IPv6 addresses as IPv4.
pub fn net_contains(net: &IpNet, addr: IpAddr) -> bool {
    let addr = unmap(addr);
    match (net, addr) {
        (IpNet::V4(n), IpAddr::V4(a)) => n.contains(&a),
        (IpNet::V6(n), IpAddr::V6(a)) => n.contains(&a),
        (IpNet::V6(n), IpAddr::V4(a)) => n.contains(&a.to_ipv6_mapped()),
        (IpNet::V4(_), IpAddr::V6(_)) => false,
    }
}

/// The special-purpose range `ip` belongs to, or `None` for public unicast space.
pub fn classify(ip: IpAddr) -> Option<IpClass> {
    match unmap(ip) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<IpClass> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => IpClass::Private,
        (127, _, _) => IpClass::Loopback,
        (169, 254, _) => IpClass::LinkLocal,
        (100, 64..=127, _) => IpClass::Cgnat,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => IpClass::Documentation,
        (224..=239, _, _) => IpClass::Multicast,
        (0, _, _) | (192, 0, 0) | (198, 18..=19, _) | (240..=255, _, _) => IpClass::Reserved,
        _ => return None,
    };
    Some(class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<IpClass> {
    let seg = ip.segments();
    let class = if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_unspecified() {
        IpClass::Reserved
    } else if seg[0] & 0xfe00 == 0xfc00 {
        IpClass::Private
    } else if seg[0] & 0xffc0 == 0xfe80 {
        IpClass::LinkLocal
    } else if seg[0] & 0xff00 == 0xff00 {
        IpClass::Multicast
    } else if (seg[0] == 0x2001 && seg[1] == 0x0db8) || seg[0] & 0xfff0 == 0x3ff0 {
        IpClass::Documentation
    } else if seg[0] & 0xffc0 == 0xfec0 || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) {
        IpClass::Reserved
    } else {
        return None;
    };
    Some(class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> Option<IpClass> {
        classify(ip.parse().expect("test address"))
    }

    #[test]
    fn classifies_special_ipv4_ranges() {
        assert_eq!(class("10.1.2.3"), Some(IpClass::Private));
        assert_eq!(class("172.16.0.1"), Some(IpClass::Private));
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("192.168.1.1"), Some(IpClass::Private));
        assert_eq!(class("127.0.0.1"), Some(IpClass::Loopback));
        assert_eq!(class("169.254.169.254"), Some(IpClass::LinkLocal));
        assert_eq!(class("100.64.0.1"), Some(IpClass::Cgnat));
        assert_eq!(class("100.128.0.1"), None);
        assert_eq!(class("203.0.113.7"), Some(IpClass::Documentation));
        assert_eq!(class("198.51.100.1"), Some(IpClass::Documentation));
        assert_eq!(class("192.0.2.55"), Some(IpClass::Documentation));
        assert_eq!(class("239.255.255.250"), Some(IpClass::Multicast));
        assert_eq!(class("255.255.255.255"), Some(IpClass::Reserved));
        assert_eq!(class("0.0.0.0"), Some(IpClass::Reserved));
        assert_eq!(class("198.18.0.1"), Some(IpClass::Reserved));
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("1.1.1.1"), None);
    }

    #[test]
    fn classifies_special_ipv6_ranges() {
        assert_eq!(class("::1"), Some(IpClass::Loopback));
        assert_eq!(class("::"), Some(IpClass::Reserved));
        assert_eq!(class("fd12:3456::1"), Some(IpClass::Private));
        assert_eq!(class("fe80::1"), Some(IpClass::LinkLocal));
        assert_eq!(class("ff02::1"), Some(IpClass::Multicast));
        assert_eq!(class("2001:db8::1"), Some(IpClass::Documentation));
        assert_eq!(class("3fff:1::1"), Some(IpClass::Documentation));
        assert_eq!(class("::ffff:10.0.0.1"), Some(IpClass::Private));
        assert_eq!(class("2606:4700:4700::1111"), None);
    }

    #[test]
    fn is_private_ip_accepts_messy_input_and_rejects_non_ips() {
        assert_eq!(is_private_ip("10.0.0.1"), Some(true));
        assert_eq!(is_private_ip(" 10[.]0[.]0[.]1 "), Some(true));
        assert_eq!(is_private_ip("[::1]"), Some(true));
        assert_eq!(is_private_ip("8.8.8.8"), Some(false));
        assert_eq!(is_private_ip("evil.com"), None);
        assert_eq!(is_private_ip("10.0.0.256"), None);
        assert_eq!(is_private_ip(""), None);
    }

    #[test]
    fn ip_in_cidr_checks_membership_and_names_bad_arguments() {
        assert_eq!(ip_in_cidr("10.1.2.3", "10.0.0.0/8"), Ok(true));
        assert_eq!(ip_in_cidr("11.1.2.3", "10.0.0.0/8"), Ok(false));
        assert_eq!(ip_in_cidr("203.0.113.7", "203.0.113.7"), Ok(true));
        assert_eq!(ip_in_cidr("2001:db8::5", "2001:db8::/32"), Ok(true));
        assert_eq!(ip_in_cidr("10.0.0.1", "2001:db8::/32"), Ok(false));
        assert_eq!(ip_in_cidr("::ffff:10.0.0.1", "10.0.0.0/8"), Ok(true));
        assert_eq!(
            ip_in_cidr("nope", "10.0.0.0/8"),
            Err(NetError::InvalidIp("nope".into()))
        );
        assert_eq!(
            ip_in_cidr("10.0.0.1", "10.0.0.0/33"),
            Err(NetError::InvalidCidr("10.0.0.0/33".into()))
        );
        let message = ip_in_cidr("10.0.0.1", "bad").unwrap_err().to_string();
        assert!(message.contains("`bad`"), "{message}");
    }
}
