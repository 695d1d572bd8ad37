//! HTML character references (`&amp;`, `&#233;`, `&#x41;`) in text and attribute values.
//!
//! Numeric references and the named ones that occur in real mail are decoded; an unknown name
//! is left as written.

use std::borrow::Cow;

/// Decodes the character references of `text`.
pub(crate) fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match reference(after) {
            Some((decoded, consumed)) => {
                out.push(decoded);
                rest = &after[consumed..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character a reference at the start of `after` (the text after `&`) stands for, and
/// how many bytes of `after` it used.
fn reference(after: &str) -> Option<(char, usize)> {
    if let Some(numeric) = after.strip_prefix('#') {
        let (digits, radix, prefix) = match numeric.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 2),
            None => (numeric, 10, 1),
        };
        let length = digits
            .bytes()
            .take_while(|byte| (*byte as char).is_digit(radix))
            .count();
        if length == 0 {
            return None;
        }
        let value = digits
            .get(..length.min(8))
            .and_then(|text| u32::from_str_radix(text, radix).ok())
            .unwrap_or(u32::MAX);
        let decoded = char::from_u32(value)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{FFFD}');
        let semicolon = usize::from(digits[length..].starts_with(';'));
        return Some((decoded, prefix + length + semicolon));
    }
    let length = after
        .bytes()
        .take(32)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let name = &after[..length];
    if after[length..].starts_with(';') {
        return named(name).map(|c| (c, length + 1));
    }
    // Legacy references without `;`, but not when they look like a URL parameter (`&lt=1`).
    let next = after[length..].chars().next();
    if matches!(name, "amp" | "lt" | "gt" | "quot" | "nbsp") && next != Some('=') {
        return named(name).map(|c| (c, length));
    }
    None
}

fn named(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "shy" => '\u{AD}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "thinsp" => '\u{2009}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "para" => '¶',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "iexcl" => '¡',
        "iquest" => '¿',
        "aacute" => 'á',
        "agrave" => 'à',
        "acirc" => 'â',
        "atilde" => 'ã',
        "auml" => 'ä',
        "aring" => 'å',
        "ccedil" => 'ç',
        "eacute" => 'é',
        "egrave" => 'è',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "iacute" => 'í',
        "igrave" => 'ì',
        "icirc" => 'î',
        "iuml" => 'ï',
        "ntilde" => 'ñ',
        "oacute" => 'ó',
        "ograve" => 'ò',
        "ocirc" => 'ô',
        "otilde" => 'õ',
        "ouml" => 'ö',
        "oslash" => 'ø',
        "uacute" => 'ú',
        "ugrave" => 'ù',
        "ucirc" => 'û',
        "uuml" => 'ü',
        "szlig" => 'ß',
        "Aacute" => 'Á',
        "Agrave" => 'À',
        "Auml" => 'Ä',
        "Ccedil" => 'Ç',
        "Eacute" => 'É',
        "Egrave" => 'È',
        "Ntilde" => 'Ñ',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_named_and_numeric_references() {
        assert_eq!(
            decode_entities("a&amp;b &lt;x&gt; caf&eacute; &#72;&#x49; &#0; &unknown;"),
            "a&b <x> café HI \u{FFFD} &unknown;"
        );
    }

    #[test]
    fn leaves_url_parameters_alone() {
        assert_eq!(decode_entities("/x?a=1&lt=2&copy=3"), "/x?a=1&lt=2&copy=3");
        assert_eq!(decode_entities("/x?a=1&amp;b=2"), "/x?a=1&b=2");
    }

    #[test]
    fn survives_huge_and_truncated_references() {
        assert_eq!(decode_entities("&#99999999999999;"), "\u{FFFD}");
        assert_eq!(decode_entities("&#x"), "&#x");
        assert_eq!(decode_entities("&"), "&");
    }
}
