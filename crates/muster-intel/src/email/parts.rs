//! The MIME parts of a parsed message: body texts, attachment descriptions and part warnings.

use std::borrow::Cow;

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::attachments::PartInfo;
use super::headers::decode_bytes;
use super::input::NEUTRAL_MESSAGE_TYPE;

/// The text and HTML bodies, each part in order.
pub(crate) struct Bodies<'m> {
    pub text: Vec<Cow<'m, str>>,
    pub html: Vec<Cow<'m, str>>,
}

/// The parts the parser chose as the readable text and HTML bodies. `raw` is the buffer the
/// message was parsed from.
pub(crate) fn bodies<'m>(message: &'m Message<'_>, raw: &[u8]) -> Bodies<'m> {
    let part = |id: &u32| message.parts.get(*id as usize);
    let text = message
        .text_body
        .iter()
        .filter_map(part)
        .filter(|part| matches!(part.body, PartType::Text(_)))
        .map(|part| body_text(part, raw))
        .collect();
    let html = message
        .html_body
        .iter()
        .filter_map(part)
        .filter(|part| matches!(part.body, PartType::Html(_)))
        .map(|part| body_text(part, raw))
        .collect();
    Bodies { text, html }
}

/// The text of a body part. When no charset was declared and the bytes were not UTF-8 (the
/// parser then replaced them with U+FFFD), the bytes are decoded again as windows-1252, which
/// is what unlabelled 8-bit mail usually is.
fn body_text<'m>(part: &'m MessagePart<'_>, raw: &[u8]) -> Cow<'m, str> {
    let text = match &part.body {
        PartType::Text(text) | PartType::Html(text) => text.as_ref(),
        _ => "",
    };
    if declared_charset(part).is_some() || part.is_encoding_problem || !text.contains('\u{FFFD}') {
        return Cow::Borrowed(text);
    }
    match transfer_decoded(part, raw) {
        Some(bytes) => Cow::Owned(decode_bytes(&bytes)),
        None => Cow::Borrowed(text),
    }
}

fn declared_charset<'p>(part: &'p MessagePart<'_>) -> Option<&'p str> {
    part.content_type()
        .and_then(|content_type| content_type.attribute("charset"))
}

/// The declared `type/subtype` of a part, lower-cased, with the name an attached message had
/// before input preparation renamed it. Parts without `Content-Type` are `text/plain`.
pub(crate) fn declared_type(part: &MessagePart<'_>) -> String {
    let Some(content_type) = part.content_type() else {
        return "text/plain".to_string();
    };
    let main = content_type.ctype().to_ascii_lowercase();
    let main = if main == NEUTRAL_MESSAGE_TYPE {
        "message".to_string()
    } else {
        main
    };
    match content_type.subtype() {
        Some(subtype) => format!("{main}/{}", subtype.to_ascii_lowercase()),
        None => main,
    }
}

/// Whether the part is an attached message (`message/*`).
pub(crate) fn is_attached_message(part: &MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|content_type| {
        content_type
            .ctype()
            .eq_ignore_ascii_case(NEUTRAL_MESSAGE_TYPE)
            || content_type.ctype().eq_ignore_ascii_case("message")
    })
}

/// Name, type and disposition of an attachment part.
pub(crate) fn part_info(part: &MessagePart<'_>) -> PartInfo {
    let filename = part
        .attachment_name()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty());
    let disposition = part
        .content_disposition()
        .map(|disposition| disposition.ctype().to_ascii_lowercase());
    PartInfo {
        filename,
        content_type: declared_type(part),
        disposition,
    }
}

/// Problems the parser recovered from, one line per part.
pub(crate) fn part_warnings(message: &Message<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    for (index, part) in message.parts.iter().enumerate() {
        if part.is_encoding_problem {
            warnings.push(format!(
                "part {index}: malformed MIME structure or transfer encoding, content kept as raw text"
            ));
        }
        if let Some(charset) = part
            .content_type()
            .and_then(|content_type| content_type.attribute("charset"))
            && part.is_text()
            && mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_none()
            && !is_utf8_label(charset)
        {
            warnings.push(format!(
                "part {index}: unknown charset \"{charset}\", decoded as UTF-8"
            ));
        }
        // Without a declared charset the body is decoded again (see `body_text`).
        if let PartType::Text(text) | PartType::Html(text) = &part.body
            && declared_charset(part).is_some()
            && text.contains('\u{FFFD}')
        {
            warnings.push(format!(
                "part {index}: bytes invalid in the declared charset were replaced with U+FFFD"
            ));
        }
    }
    warnings
}

fn is_utf8_label(charset: &str) -> bool {
    let label: String = charset
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(label.as_str(), "utf8" | "usascii" | "ascii")
}

/// The content of an attachment part as a file: transfer-decoded but, for text parts, not
/// converted from their charset (hashes must match the file an analyst would save). A base64
/// part the parser could not decode (truncated or with garbage) is decoded here as far as it is
/// valid; the flag says so. `raw` is the buffer the message was parsed from.
pub(crate) fn attachment_content<'p>(
    part: &'p MessagePart<'_>,
    raw: &'p [u8],
) -> (Cow<'p, [u8]>, bool) {
    let is_base64 = part
        .content_transfer_encoding()
        .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("base64"));
    if part.is_encoding_problem {
        if is_base64 {
            let recovered = lenient_base64(part.contents());
            if !recovered.is_empty() {
                return (Cow::Owned(recovered), true);
            }
        }
        return (Cow::Borrowed(part.contents()), false);
    }
    if let PartType::Text(_) | PartType::Html(_) = part.body
        && let Some(decoded) = transfer_decoded(part, raw)
    {
        return (Cow::Owned(decoded), false);
    }
    (Cow::Borrowed(part.contents()), false)
}

/// The bytes of a part's body with only its transfer encoding undone, from the parsed buffer.
fn transfer_decoded(part: &MessagePart<'_>, raw: &[u8]) -> Option<Vec<u8>> {
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    let encoding = part
        .content_transfer_encoding()
        .map(|encoding| encoding.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        Some("base64") => Some(lenient_base64(body)),
        Some("quoted-printable") => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        _ => Some(strip_final_line_break(body).to_vec()),
    }
}

/// The line break before a boundary belongs to the boundary, not to the content.
fn strip_final_line_break(body: &[u8]) -> &[u8] {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    body.strip_suffix(b"\r").unwrap_or(body)
}

/// Decodes the longest valid base64 prefix of `text`, ignoring white space.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let mut clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|byte| !byte.is_ascii_whitespace())
        .take_while(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/'))
        .collect();
    // A final group of one character carries no whole byte.
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
    engine.decode(&clean).unwrap_or_else(|_| {
        clean.truncate(clean.len() / 4 * 4);
        engine.decode(&clean).unwrap_or_default()
    })
}
