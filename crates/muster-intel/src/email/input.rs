//! Prepares raw bytes for the MIME parser so that its cost stays bounded.
//!
//! Three things happen in one pass over the lines:
//! - the input is cut at `max_input_bytes`;
//! - it is cut before the line that would exceed the number of MIME delimiter lines
//!   (`--…`, which bounds the number of parts), of header lines (each parsed header costs far
//!   more memory than its bytes) or of `multipart/*` containers (each container whose closing
//!   delimiter is missing costs the parser one scan of the rest of the input, so their number
//!   bounds the parser's time);
//! - the type of every `message/*` and `multipart/digest` `Content-Type` is renamed, in a copy
//!   and with the same length, so that the parser treats attached messages as opaque leaves.
//!   Attached messages are then analysed by this module itself, with its own depth limit and
//!   this same preparation; the parser's own recursion into encoded attached messages has no
//!   limit on what the decoded bytes contain and would build arbitrarily deep structures.

use std::borrow::Cow;

use super::options::EmailOptions;

/// Replaces the media type `message` of a `Content-Type` (same length).
pub(crate) const NEUTRAL_MESSAGE_TYPE: &str = "x-msgpt";
/// Replaces the subtype `digest` of `multipart/digest` (same length).
const NEUTRAL_DIGEST_SUBTYPE: &[u8] = b"x-dgst";

/// The bytes to parse and what was done to them.
pub(crate) struct PreparedInput<'a> {
    /// What the MIME parser reads. Same offsets as `original` up to its length.
    pub parse: Cow<'a, [u8]>,
    /// The input as given, cut to the same length as `parse`.
    pub original: &'a [u8],
    pub warnings: Vec<String>,
}

/// The maximum number of `multipart/*` containers kept, from the part limit.
pub(crate) fn max_multipart_containers(options: &EmailOptions) -> usize {
    (options.max_parts / 10).max(8)
}

/// Cuts and neutralises `raw` as described in the module documentation.
pub(crate) fn prepare<'a>(raw: &'a [u8], options: &EmailOptions) -> PreparedInput<'a> {
    let mut warnings = Vec::new();
    let mut end = raw.len();
    if end > options.max_input_bytes {
        end = options.max_input_bytes;
        warnings.push(format!(
            "input of {} bytes cut to {} bytes (limit max_input_bytes)",
            raw.len(),
            end
        ));
    }
    let input = &raw[..end];

    let max_delimiters = options.max_parts;
    let max_multiparts = max_multipart_containers(options);
    let mut delimiters = 0usize;
    let mut multiparts = 0usize;
    let mut rewrites: Vec<(usize, &'static [u8])> = Vec::new();
    let mut cut = input.len();

    let max_header_lines = options.max_header_lines;
    let mut header_lines = 0usize;
    // Header blocks start the input and follow delimiter lines; a blank line ends them.
    let mut in_header_block = true;

    let mut line_start = 0usize;
    while line_start < input.len() {
        let line_end = memchr::memchr(b'\n', &input[line_start..])
            .map_or(input.len(), |offset| line_start + offset);
        let line = &input[line_start..line_end];
        if in_header_block {
            if line.is_empty() || line == b"\r" {
                in_header_block = false;
            } else {
                header_lines += 1;
                if header_lines > max_header_lines {
                    cut = line_start;
                    warnings.push(format!(
                        "input cut at byte {line_start}: more than {max_header_lines} header lines (limit max_header_lines)"
                    ));
                    break;
                }
            }
        }
        if line.starts_with(b"--") {
            in_header_block = true;
            delimiters += 1;
            if delimiters > max_delimiters {
                cut = line_start;
                warnings.push(format!(
                    "input cut at byte {line_start}: more than {max_delimiters} MIME delimiter lines (limit max_parts)"
                ));
                break;
            }
        } else if let Some(type_start) = content_type_value(input, line_start, line_end) {
            match classify_media_type(input, type_start) {
                MediaType::Message => rewrites.push((type_start, NEUTRAL_MESSAGE_TYPE.as_bytes())),
                MediaType::Digest(subtype_start) => {
                    multiparts += 1;
                    rewrites.push((subtype_start, NEUTRAL_DIGEST_SUBTYPE));
                }
                MediaType::Multipart => multiparts += 1,
                MediaType::Other => {}
            }
            if multiparts > max_multiparts {
                cut = line_start;
                rewrites.retain(|(offset, _)| *offset < line_start);
                warnings.push(format!(
                    "input cut at byte {line_start}: more than {max_multiparts} multipart containers (limit max_parts / 10)"
                ));
                break;
            }
        }
        line_start = line_end + 1;
    }

    let original = &input[..cut];
    let parse = if rewrites.is_empty() {
        Cow::Borrowed(original)
    } else {
        let mut copy = original.to_vec();
        for (offset, replacement) in rewrites {
            if let Some(target) = copy.get_mut(offset..offset + replacement.len()) {
                target.copy_from_slice(replacement);
            }
        }
        Cow::Owned(copy)
    };
    PreparedInput {
        parse,
        original,
        warnings,
    }
}

enum MediaType {
    Message,
    /// `multipart/digest`, with the offset of `digest`.
    Digest(usize),
    Multipart,
    Other,
}

/// When the line `[start, end)` is a `Content-Type` field, the offset of its value's first
/// token (which may be on a continuation line).
fn content_type_value(input: &[u8], start: usize, end: usize) -> Option<usize> {
    const NAME: &[u8] = b"content-type";
    let mut position = start;
    while position < end && matches!(input[position], b' ' | b'\t' | b'\r') {
        position += 1;
    }
    let name = input.get(position..position + NAME.len())?;
    if !name.eq_ignore_ascii_case(NAME) {
        return None;
    }
    position += NAME.len();
    while position < end && matches!(input[position], b' ' | b'\t') {
        position += 1;
    }
    if input.get(position) != Some(&b':') {
        return None;
    }
    Some(skip_blanks_and_comments(input, position + 1))
}

/// Skips white space, line folding and `(comments)` (nested, with `\` escapes).
fn skip_blanks_and_comments(input: &[u8], mut position: usize) -> usize {
    let mut depth = 0usize;
    while let Some(&byte) = input.get(position) {
        match byte {
            b'(' => depth += 1,
            b')' if depth > 0 => depth -= 1,
            b'\\' if depth > 0 => position += 1,
            b'\n' => {
                // A line break ends the field unless the next line is a continuation.
                if !matches!(input.get(position + 1), Some(b' ' | b'\t')) {
                    return position;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            _ if depth > 0 => {}
            _ => return position,
        }
        position += 1;
    }
    position
}

fn starts_with_ignore_case(input: &[u8], position: usize, word: &[u8]) -> bool {
    input
        .get(position..position + word.len())
        .is_some_and(|found| found.eq_ignore_ascii_case(word))
}

fn classify_media_type(input: &[u8], start: usize) -> MediaType {
    if starts_with_ignore_case(input, start, b"message") {
        return MediaType::Message;
    }
    if !starts_with_ignore_case(input, start, b"multipart") {
        return MediaType::Other;
    }
    let slash = skip_blanks_and_comments(input, start + b"multipart".len());
    if input.get(slash) != Some(&b'/') {
        return MediaType::Multipart;
    }
    let subtype = skip_blanks_and_comments(input, slash + 1);
    if starts_with_ignore_case(input, subtype, b"digest") {
        MediaType::Digest(subtype)
    } else {
        MediaType::Multipart
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_attached_message_types_keeping_offsets() {
        let raw = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type:\r\n (note) Message/RFC822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--b--\r\n";
        let prepared = prepare(raw, &EmailOptions::default());
        assert_eq!(prepared.parse.len(), raw.len());
        let text = String::from_utf8_lossy(&prepared.parse);
        assert!(text.contains("(note) x-msgpt/RFC822"), "{text}");
        assert!(prepared.warnings.is_empty());
    }

    #[test]
    fn renames_digest_subtype() {
        let raw = b"Content-Type: multipart/ digest; boundary=b\n\n--b\n\nSubject: a\n\n--b--\n";
        let prepared = prepare(raw, &EmailOptions::default());
        assert!(String::from_utf8_lossy(&prepared.parse).contains("multipart/ x-dgst"));
    }

    #[test]
    fn cuts_at_size_and_delimiter_limits() {
        let options = EmailOptions {
            max_input_bytes: 10,
            ..EmailOptions::default()
        };
        let prepared = prepare(b"Subject: 0123456789", &options);
        assert_eq!(prepared.original, b"Subject: 0");
        assert!(prepared.warnings[0].contains("max_input_bytes"));

        let options = EmailOptions {
            max_parts: 2,
            ..EmailOptions::default()
        };
        let raw = b"A: b\n\n--x\n--x\n--x\n--x\n";
        let prepared = prepare(raw, &options);
        assert_eq!(prepared.original, b"A: b\n\n--x\n--x\n");
        assert!(prepared.warnings[0].contains("max_parts"));

        let options = EmailOptions {
            max_header_lines: 2,
            ..EmailOptions::default()
        };
        let prepared = prepare(b"A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody\r\n", &options);
        assert_eq!(prepared.original, b"A: 1\r\nB: 2\r\n");
        assert!(prepared.warnings[0].contains("max_header_lines"));
    }

    #[test]
    fn leaves_plain_messages_borrowed() {
        let raw = b"Content-Type: text/plain\n\nmessage/rfc822 in a body is only text\n";
        let prepared = prepare(raw, &EmailOptions::default());
        assert!(matches!(prepared.parse, Cow::Borrowed(_)));
    }
}
