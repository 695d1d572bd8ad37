//! The `Received` chain: one hop per header, oldest first, and the originating IP.

use std::net::IpAddr;

use mail_parser::{DateTime, HeaderName, HeaderValue, Host, Message, Received};

use super::report::{HeaderField, Hop};

/// The hops of the message's top-level `Received` headers, oldest first. `fields` is the
/// header list of the same part, in the same order.
pub(crate) fn hops(message: &Message<'_>, fields: &[HeaderField]) -> Vec<Hop> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    let mut hops: Vec<Hop> = root
        .headers
        .iter()
        .zip(fields)
        .filter(|(header, _)| header.name == HeaderName::Received)
        .map(|(header, field)| {
            let parsed = match &header.value {
                HeaderValue::Received(received) => Some(received.as_ref()),
                _ => None,
            };
            hop(parsed, &field.value)
        })
        .collect();
    hops.reverse();
    hops
}

fn hop(parsed: Option<&Received<'_>>, raw: &str) -> Hop {
    let ips = ips_in(raw);
    let from_clause = clause(raw, "from", &["by", "via", "with", "id", "for"]);
    let mut hop = Hop {
        ips: ips.iter().map(IpAddr::to_string).collect(),
        raw: raw.to_string(),
        ..Hop::default()
    };
    if let Some(received) = parsed {
        hop.from_host = received
            .from
            .as_ref()
            .or(received.helo.as_ref())
            .map(host_text);
        hop.from_ip = received
            .from_ip
            .or(match received.from {
                Some(Host::IpAddr(ip)) => Some(ip),
                _ => None,
            })
            .map(|ip| ip.to_string());
        hop.by_host = received.by.as_ref().map(host_text);
        hop.with = received.with.map(|protocol| format!("{protocol:?}"));
        hop.timestamp = received
            .date
            .filter(DateTime::is_valid)
            .map(|date| date.to_rfc3339());
    }
    if hop.from_ip.is_none() {
        hop.from_ip = from_clause
            .and_then(|text| ips_in(text).into_iter().next())
            .map(|ip| ip.to_string());
    }
    if hop.timestamp.is_none() {
        hop.timestamp = raw
            .rsplit_once(';')
            .and_then(|(_, date)| DateTime::parse_rfc822(date.trim()))
            .filter(DateTime::is_valid)
            .map(|date| date.to_rfc3339());
    }
    hop
}

fn host_text(host: &Host<'_>) -> String {
    match host {
        Host::Name(name) => name.to_string(),
        Host::IpAddr(ip) => ip.to_string(),
    }
}

/// The text after the keyword `start` up to the next of `ends` (whole words, any case).
fn clause<'a>(raw: &'a str, start: &str, ends: &[&str]) -> Option<&'a str> {
    let words: Vec<(usize, &str)> = word_offsets(raw).collect();
    let begin = words
        .iter()
        .position(|(_, word)| word.eq_ignore_ascii_case(start))?;
    let from = words[begin].0 + start.len();
    let to = words[begin + 1..]
        .iter()
        .find(|(_, word)| ends.iter().any(|end| word.eq_ignore_ascii_case(end)))
        .map_or(raw.len(), |(offset, _)| *offset);
    raw.get(from..to)
}

fn word_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
}

/// Every distinct IPv4 or IPv6 address in `text`, in order.
pub(crate) fn ips_in(text: &str) -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = Vec::new();
    let is_ip_char = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
    for token in text.split(|c: char| !is_ip_char(c)) {
        let token = token.trim_matches('.');
        let token = token.trim_start_matches(':').trim_end_matches(':');
        if token.len() < 3 || !(token.contains('.') || token.contains(':')) {
            continue;
        }
        let candidate = strip_ipv6_tag(token);
        if let Ok(ip) = candidate.parse::<IpAddr>()
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    found
}

/// `[IPv6:2001:db8::1]` splits into the token `6:2001:db8::1`; drop the tag's leftover.
fn strip_ipv6_tag(token: &str) -> &str {
    match token.strip_prefix("6:") {
        Some(rest) if rest.parse::<IpAddr>().is_ok() => rest,
        _ => token,
    }
}

/// Whether `ip` belongs to a network that is not the Internet at large: private, loopback,
/// link-local, shared address space (CGNAT), unspecified, broadcast, multicast or unique local.
pub(crate) fn is_internal(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The client IP of the oldest hop whose client is on the Internet at large.
pub(crate) fn originating_ip(hops: &[Hop]) -> Option<String> {
    hops.iter()
        .filter_map(|hop| hop.from_ip.as_deref())
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .find(|ip| !is_internal(ip))
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ips_in_received_text() {
        let raw = "from mail.example (mail.example [203.0.113.9]) by mx.example (Postfix) with ESMTPS id 4F; from [IPv6:2001:db8::25] at 10:00:00, 1.2.3.4.";
        let ips: Vec<String> = ips_in(raw).iter().map(IpAddr::to_string).collect();
        assert_eq!(ips, ["203.0.113.9", "2001:db8::25", "1.2.3.4"]);
    }

    #[test]
    fn classifies_internal_networks() {
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "172.20.0.1",
            "127.0.0.1",
            "100.64.1.1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["203.0.113.9", "8.8.8.8", "2001:db8::1", "100.128.0.1"] {
            assert!(!is_internal(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn takes_the_oldest_external_client() {
        let hop = |ip: &str| Hop {
            from_ip: Some(ip.to_string()),
            ..Hop::default()
        };
        let hops = [hop("10.0.0.5"), hop("198.51.100.7"), hop("203.0.113.1")];
        assert_eq!(originating_ip(&hops), Some("198.51.100.7".to_string()));
    }
}
