//! Which addresses an outbound request may reach: every special-purpose range of the IANA
//! IPv4 and IPv6 registries is "not public", and cloud-metadata endpoints are singled out
//! because they hand out credentials to whoever asks.
//!
//! IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, NAT64 `64:ff9b::/96` and 6to4 `2002::/16`) are judged by the IPv4 address they
//! carry, so `::ffff:127.0.0.1` is loopback and `2002:a9fe:a9fe::` is the metadata address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// `127/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// Shared address space for carrier-grade NAT, `100.64/10` (RFC 6598).
    Cgnat,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18/15`, `2001:2::/48`.
    Benchmarking,
    /// IPv6 unique-local `fc00::/7` and the deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// Everything else that does not route on the internet: `192.0.0/24`, `240/4`,
    /// discard-only `100::/64`, `2001::/23` protocol assignments (Teredo, ORCHID), …
    Reserved,
}

impl AddressKind {
    /// Reads as "a … address".
    pub fn describe(self) -> &'static str {
        match self {
            AddressKind::Loopback => "loopback",
            AddressKind::Private => "private",
            AddressKind::LinkLocal => "link-local",
            AddressKind::Cgnat => "carrier-grade NAT (100.64.0.0/10)",
            AddressKind::Multicast => "multicast",
            AddressKind::Broadcast => "broadcast",
            AddressKind::Unspecified => "unspecified",
            AddressKind::Documentation => "documentation",
            AddressKind::Benchmarking => "benchmarking (198.18.0.0/15)",
            AddressKind::UniqueLocal => "unique-local IPv6",
            AddressKind::Reserved => "reserved",
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Cloud instance-metadata endpoints (AWS, GCP, Azure, Oracle, DigitalOcean, Alibaba, ECS and
/// EKS task credentials, Azure WireServer).
pub const METADATA_ADDRESSES: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 23)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023)),
];

/// Host names of metadata endpoints, refused before any lookup (lower case, no final dot).
pub const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
];

/// The address itself, or the IPv4 address an IPv6 address carries.
pub fn effective(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` (or the IPv4 address it carries) is a cloud-metadata endpoint.
pub fn is_metadata(ip: IpAddr) -> bool {
    let ip = effective(ip);
    METADATA_ADDRESSES.contains(&ip)
}

/// Whether `host` (lower case, without a final dot) names a metadata endpoint.
pub fn is_metadata_name(host: &str) -> bool {
    METADATA_NAMES.contains(&host)
}

/// Why `ip` is not a public address, or `None` when it is.
pub fn non_public(ip: IpAddr) -> Option<AddressKind> {
    match effective(ip) {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        _ if ip.is_broadcast() => AddressKind::Broadcast,
        (0, _, _) => AddressKind::Unspecified,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => AddressKind::Private,
        (127, _, _) => AddressKind::Loopback,
        (169, 254, _) => AddressKind::LinkLocal,
        (100, 64..=127, _) => AddressKind::Cgnat,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressKind::Documentation,
        (198, 18..=19, _) => AddressKind::Benchmarking,
        (224..=239, _, _) => AddressKind::Multicast,
        (192, 0, 0) | (192, 88, 99) | (240..=255, _, _) => AddressKind::Reserved,
        _ => return None,
    };
    Some(kind)
}

fn non_public_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    let seg = ip.segments();
    let kind = if ip.is_unspecified() {
        AddressKind::Unspecified
    } else if ip.is_loopback() {
        AddressKind::Loopback
    } else if seg[0] & 0xfe00 == 0xfc00 || seg[0] & 0xffc0 == 0xfec0 {
        AddressKind::UniqueLocal
    } else if seg[0] & 0xffc0 == 0xfe80 {
        AddressKind::LinkLocal
    } else if seg[0] & 0xff00 == 0xff00 {
        AddressKind::Multicast
    } else if (seg[0] == 0x2001 && seg[1] == 0x0db8) || seg[0] & 0xfff0 == 0x3ff0 {
        AddressKind::Documentation
    } else if seg[0] == 0x2001 && seg[1] == 0x0002 && seg[2] == 0 {
        AddressKind::Benchmarking
    } else if is_reserved_v6(&seg) {
        AddressKind::Reserved
    } else {
        return None;
    };
    Some(kind)
}

fn is_reserved_v6(seg: &[u16; 8]) -> bool {
    // 2001::/23 (IETF protocol assignments: Teredo, ORCHID, …) except its few globally
    // reachable parts: 2001:1::1, 2001:1::2, 2001:3::/32 (AMT), 2001:4:112::/48 (AS112),
    // 2001:20::/28 (ORCHIDv2).
    let ietf = seg[0] == 0x2001 && seg[1] < 0x0200;
    let ietf_global = seg[0] == 0x2001
        && ((seg[1] == 0x0001 && seg[2..7] == [0; 5] && matches!(seg[7], 1 | 2))
            || seg[1] == 0x0003
            || (seg[1] == 0x0004 && seg[2] == 0x0112)
            || (0x0020..=0x002f).contains(&seg[1]));
    (ietf && !ietf_global)
        // 64:ff9b:1::/48, local-use NAT64.
        || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 0x0001)
        // 100::/64 discard-only and 100:0:0:1::/64 dummy prefix.
        || (seg[0] == 0x0100 && seg[1] == 0 && seg[2] == 0 && seg[3] <= 1)
        // 5f00::/16, SRv6 SIDs.
        || seg[0] == 0x5f00
        // ::/96 that is not :: or ::1 and carries no IPv4 address worth the name, and
        // ::ffff:0:0/96 are handled by `effective`; whatever is left of ::/8 is reserved.
        || seg[0] == 0
}

/// The IPv4 address carried by an IPv4-mapped, IPv4-compatible, NAT64 (`64:ff9b::/96`) or
/// 6to4 (`2002::/16`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let seg = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    if seg[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return Some(low(seg[6], seg[7]));
    }
    if seg[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return Some(low(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return Some(low(seg[1], seg[2]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<AddressKind> {
        non_public(text.parse().expect("test address"))
    }

    #[test]
    fn ipv4_special_ranges_are_not_public() {
        use AddressKind::*;
        for (ip, expected) in [
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.169.254", LinkLocal),
            ("100.64.0.1", Cgnat),
            ("100.127.255.254", Cgnat),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("192.0.2.1", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.7", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("192.0.0.8", Reserved),
            ("240.0.0.1", Reserved),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "93.184.216.34",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_special_ranges_are_not_public() {
        use AddressKind::*;
        for (ip, expected) in [
            ("::1", Loopback),
            ("::", Unspecified),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fec0::1", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001::1", Reserved),
            ("100::1", Reserved),
            ("64:ff9b:1::1", Reserved),
        ] {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "2001:4:112::1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_as_ipv4() {
        use AddressKind::*;
        assert_eq!(kind("::ffff:127.0.0.1"), Some(Loopback));
        assert_eq!(kind("::ffff:10.1.2.3"), Some(Private));
        assert_eq!(kind("::127.0.0.1"), Some(Loopback));
        assert_eq!(kind("64:ff9b::a9fe:a9fe"), Some(LinkLocal));
        assert_eq!(kind("2002:7f00:1::"), Some(Loopback));
        assert_eq!(kind("::ffff:8.8.8.8"), None);
        assert_eq!(kind("64:ff9b::808:808"), None);
        assert!(is_metadata("::ffff:169.254.169.254".parse().unwrap()));
        assert!(is_metadata("2002:a9fe:a9fe::1".parse().unwrap()));
        assert!(is_metadata("64:ff9b::6464:64c8".parse().unwrap()));
    }

    #[test]
    fn metadata_endpoints_are_recognised() {
        for ip in [
            "169.254.169.254",
            "fd00:ec2::254",
            "100.100.100.200",
            "169.254.170.2",
            "168.63.129.16",
        ] {
            assert!(is_metadata(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_metadata("169.254.169.253".parse().unwrap()));
        assert!(is_metadata_name("metadata.google.internal"));
        assert!(!is_metadata_name("metadata.example.com"));
    }
}
