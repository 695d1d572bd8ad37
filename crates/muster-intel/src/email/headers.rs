//! Header fields: the raw list in order, and the address, date and identity fields.

use mail_parser::{Address, HeaderName, HeaderValue, Message};

use super::report::{HeaderField, Mailbox};

/// Decodes header or body bytes: UTF-8 when valid, otherwise windows-1252 (which maps every
/// byte, and is what unlabelled 8-bit mail most often is).
pub(crate) fn decode_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252")
            .map_or_else(
                || String::from_utf8_lossy(bytes).into_owned(),
                |decode| decode(bytes),
            ),
    }
}

/// Joins folded lines and trims: `a\r\n  b` → `a b`.
pub(crate) fn unfold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for segment in text.split(['\r', '\n']) {
        let segment = if out.is_empty() {
            segment
        } else {
            segment.trim_start_matches([' ', '\t'])
        };
        if segment.is_empty() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
        }
        out.push_str(segment);
        pending_space = false;
    }
    out.trim().to_string()
}

/// Every header of the message's top-level part, with names and values as written in
/// `original` (which has the same offsets as the parsed bytes).
pub(crate) fn header_fields(message: &Message<'_>, original: &[u8]) -> Vec<HeaderField> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .map(|header| {
            let name_bytes = slice(original, header.offset_field, header.offset_start);
            let name_bytes = name_bytes.strip_suffix(b":").unwrap_or(name_bytes);
            let name = decode_bytes(name_bytes).trim().to_string();
            let name = if name.is_empty() {
                header.name.as_str().to_string()
            } else {
                name
            };
            let value = unfold(&decode_bytes(slice(
                original,
                header.offset_start,
                header.offset_end,
            )));
            HeaderField { name, value }
        })
        .collect()
}

fn slice(bytes: &[u8], start: u32, end: u32) -> &[u8] {
    bytes.get(start as usize..end as usize).unwrap_or_default()
}

/// The raw (unfolded) values of every header named `name`, in order.
pub(crate) fn values_named<'a>(
    fields: &'a [HeaderField],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    fields
        .iter()
        .filter(move |field| field.name.eq_ignore_ascii_case(name))
        .map(|field| field.value.as_str())
}

/// The domain part of an address, lower-cased, without a trailing dot.
pub(crate) fn address_domain(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('>').trim_end_matches('.');
    if domain.is_empty() {
        None
    } else {
        Some(domain.to_ascii_lowercase())
    }
}

fn mailbox(name: Option<&str>, address: Option<&str>) -> Mailbox {
    let name = name
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty());
    let address = address
        .map(|address| address.trim().to_string())
        .filter(|address| !address.is_empty());
    let domain = address.as_deref().and_then(address_domain);
    Mailbox {
        name,
        address,
        domain,
    }
}

/// Every mailbox of an address header, groups flattened.
pub(crate) fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else {
        return Vec::new();
    };
    address
        .iter()
        .map(|addr| mailbox(addr.name(), addr.address()))
        .filter(|mailbox| mailbox.name.is_some() || mailbox.address.is_some())
        .collect()
}

/// The first mailbox of the first `From` header (the parser's own accessor gives the last
/// header when there are several, which is a spoofing trick worth seeing).
pub(crate) fn first_from(message: &Message<'_>) -> Option<Mailbox> {
    let root = message.parts.first()?;
    root.headers
        .iter()
        .filter(|header| header.name == HeaderName::From)
        .find_map(|header| mailboxes(header.value.as_address()).into_iter().next())
}

/// `Subject`, RFC 2047 decoded. When the parser had to replace undecodable raw 8-bit bytes, the
/// raw value decoded as windows-1252 is used instead.
pub(crate) fn subject(message: &Message<'_>, fields: &[HeaderField]) -> Option<String> {
    let parsed = message.subject()?;
    if parsed.contains('\u{FFFD}')
        && let Some(raw) = values_named(fields, "Subject").next()
        && !raw.contains("=?")
    {
        return Some(raw.to_string());
    }
    Some(parsed.to_string())
}

/// The `Return-Path` address without its angle brackets (`<>` gives `None`).
pub(crate) fn return_path(message: &Message<'_>) -> Option<String> {
    let value = match message.header(HeaderName::ReturnPath)? {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.first()?.to_string(),
        HeaderValue::Address(address) => address.first()?.address()?.to_string(),
        _ => return None,
    };
    let value = value.trim().trim_start_matches('<').trim_end_matches('>');
    if value.is_empty() {
        None
    } else {
        Some(value.to_string())
    }
}

/// `Date` as RFC 3339, when it parsed to a valid date.
pub(crate) fn date(message: &Message<'_>) -> Option<String> {
    message
        .date()
        .filter(|date| date.is_valid())
        .map(|date| date.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_continuation_lines() {
        assert_eq!(unfold(" a\r\n\tb\r\n  c "), "a b c");
        assert_eq!(unfold("one"), "one");
    }

    #[test]
    fn decodes_latin1_bytes() {
        assert_eq!(decode_bytes(b"caf\xe9"), "café");
        assert_eq!(decode_bytes("café".as_bytes()), "café");
    }

    #[test]
    fn finds_address_domain() {
        assert_eq!(
            address_domain("Bob@Mail.Example.COM."),
            Some("mail.example.com".into())
        );
        assert_eq!(address_domain("no-at-sign"), None);
    }
}
