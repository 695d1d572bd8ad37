//! A small, forgiving HTML tokenizer for mail bodies: renders readable text and collects links
//! (`<a>`, `<area>` with their displayed text) and the URLs of loaded resources (`img`, `form`,
//! `iframe`, …).
//!
//! It does not build a tree: mail HTML is often broken, and a single linear pass keeps time
//! proportional to the input. Content of `script`, `style`, `title` and Office `xml` blocks is
//! skipped; zero-width characters, which phishing uses to break up words, are dropped.

use memchr::memchr;

use super::entities::decode_entities;

/// What a pass over an HTML document found.
#[derive(Debug, Default)]
pub(crate) struct HtmlScan {
    /// Rendered text.
    pub text: String,
    /// `(href, displayed text)` of each link, in order.
    pub links: Vec<(String, String)>,
    /// URLs the document loads or submits to (`img src`, `form action`, …).
    pub resources: Vec<String>,
    /// Links dropped after `max_links`.
    pub links_dropped: usize,
}

/// Tokenizes `html`, keeping at most `max_links` links.
pub(crate) fn scan(html: &str, max_links: usize) -> HtmlScan {
    let mut scanner = Scanner {
        scan: HtmlScan::default(),
        text: TextWriter::default(),
        link: None,
        max_links,
    };
    scanner.run(html);
    scanner.finish_link();
    scanner.scan.text = scanner.text.finish();
    scanner.scan
}

struct OpenLink {
    href: String,
    text: TextWriter,
    image_alt: Option<String>,
}

struct Scanner {
    scan: HtmlScan,
    text: TextWriter,
    link: Option<OpenLink>,
    max_links: usize,
}

/// Elements whose content is not rendered.
const SKIPPED_CONTENT: &[&str] = &["script", "style", "title", "xml", "template"];
/// Elements that start a new line.
const LINE_BREAKS: &[&str] = &[
    "br",
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "hr",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "center",
    "form",
    "address",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "fieldset",
    "body",
];

impl Scanner {
    fn run(&mut self, html: &str) {
        let bytes = html.as_bytes();
        let mut position = 0;
        while position < bytes.len() {
            let Some(offset) = memchr(b'<', &bytes[position..]) else {
                self.push_text(&html[position..]);
                return;
            };
            let lt = position + offset;
            if lt > position {
                self.push_text(&html[position..lt]);
            }
            position = self.markup(html, lt);
        }
    }

    /// Handles the markup starting at `lt` (a `<`) and returns where text resumes.
    fn markup(&mut self, html: &str, lt: usize) -> usize {
        let rest = &html[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            return comment
                .find("-->")
                .map_or(html.len(), |end| lt + 4 + end + 3);
        }
        let bytes = rest.as_bytes();
        let closing = bytes.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        match bytes.get(name_start) {
            Some(byte) if byte.is_ascii_alphabetic() => {}
            Some(b'!' | b'?') if !closing => {
                return memchr(b'>', bytes).map_or(html.len(), |end| lt + end + 1);
            }
            _ => {
                self.push_text("<");
                return lt + 1;
            }
        }
        let (tag, end) = parse_tag(rest, name_start);
        let resume = lt + end;
        if closing {
            self.end_tag(&tag.name);
            resume
        } else {
            self.start_tag(&tag);
            if SKIPPED_CONTENT.contains(&tag.name.as_str()) && !tag.self_closing {
                return skip_element_content(html, resume, &tag.name);
            }
            resume
        }
    }

    fn start_tag(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        if LINE_BREAKS.contains(&name) {
            self.line_break(name);
        } else if matches!(name, "td" | "th") {
            self.text.space();
        }
        match name {
            "a" => {
                self.finish_link();
                if let Some(href) = tag.attribute("href") {
                    self.link = Some(OpenLink {
                        href: href.trim().to_string(),
                        text: TextWriter::default(),
                        image_alt: None,
                    });
                }
            }
            "area" => {
                if let Some(href) = tag.attribute("href") {
                    let alt = tag.attribute("alt").unwrap_or_default().trim().to_string();
                    self.add_link(href.trim().to_string(), alt);
                }
            }
            "img" => {
                if let Some(link) = &mut self.link
                    && let Some(alt) = tag.attribute("alt")
                {
                    link.image_alt.get_or_insert_with(|| alt.trim().to_string());
                }
                self.resource(tag.attribute("src"));
            }
            "form" => self.resource(tag.attribute("action")),
            "iframe" | "frame" | "embed" | "script" | "source" => {
                self.resource(tag.attribute("src"))
            }
            "object" => self.resource(tag.attribute("data")),
            "link" => self.resource(tag.attribute("href")),
            "meta" => {
                let refresh = tag
                    .attribute("http-equiv")
                    .is_some_and(|value| value.eq_ignore_ascii_case("refresh"));
                if refresh && let Some(content) = tag.attribute("content") {
                    let lower = content.to_ascii_lowercase();
                    if let Some(at) = lower.find("url=") {
                        let target = content[at + 4..].trim().trim_matches(['\'', '"']);
                        self.resource(Some(target));
                    }
                }
            }
            _ => {}
        }
        if let Some(background) = tag.attribute("background") {
            self.resource(Some(background));
        }
    }

    fn end_tag(&mut self, name: &str) {
        if name == "a" {
            self.finish_link();
        } else if LINE_BREAKS.contains(&name) {
            self.line_break(name);
        }
    }

    fn line_break(&mut self, name: &str) {
        if matches!(
            name,
            "p" | "table" | "blockquote" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) {
            self.text.paragraph();
        } else {
            self.text.newline();
        }
        if let Some(link) = &mut self.link {
            link.text.space();
        }
    }

    fn push_text(&mut self, raw: &str) {
        let decoded = decode_entities(raw);
        self.text.push(&decoded);
        if let Some(link) = &mut self.link {
            link.text.push(&decoded);
        }
    }

    fn resource(&mut self, url: Option<&str>) {
        if let Some(url) = url.map(str::trim).filter(|url| !url.is_empty())
            && self.scan.resources.len() < self.max_links
        {
            self.scan.resources.push(url.to_string());
        }
    }

    fn finish_link(&mut self) {
        if let Some(link) = self.link.take() {
            let mut text = link.text.finish();
            if text.is_empty() {
                text = link.image_alt.unwrap_or_default();
            }
            self.add_link(link.href, text);
        }
    }

    fn add_link(&mut self, href: String, text: String) {
        if self.scan.links.len() < self.max_links {
            self.scan.links.push((href, text));
        } else {
            self.scan.links_dropped += 1;
        }
    }
}

/// Where text resumes after the content of a skipped element opened before `from`.
fn skip_element_content(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut position = from;
    while let Some(offset) = memchr(b'<', &bytes[position..]) {
        let lt = position + offset;
        let candidate = &bytes[lt..];
        if candidate.get(1) == Some(&b'/')
            && candidate
                .get(2..2 + name.len())
                .is_some_and(|found| found.eq_ignore_ascii_case(name.as_bytes()))
        {
            return memchr(b'>', candidate).map_or(html.len(), |end| lt + end + 1);
        }
        position = lt + 1;
    }
    html.len()
}

struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
    self_closing: bool,
}

impl Tag {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Parses the tag at the start of `rest` (which starts with `<`); returns it and the offset
/// just after its `>` (or the end of `rest`).
fn parse_tag(rest: &str, name_start: usize) -> (Tag, usize) {
    let bytes = rest.as_bytes();
    let mut position = name_start;
    while position < bytes.len()
        && (bytes[position].is_ascii_alphanumeric()
            || matches!(bytes[position], b':' | b'-' | b'_'))
    {
        position += 1;
    }
    let name = rest[name_start..position].to_ascii_lowercase();
    let mut tag = Tag {
        name,
        attributes: Vec::new(),
        self_closing: false,
    };
    loop {
        while position < bytes.len()
            && (bytes[position].is_ascii_whitespace() || bytes[position] == b'/')
        {
            tag.self_closing = bytes[position] == b'/';
            position += 1;
        }
        match bytes.get(position) {
            None => return (tag, bytes.len()),
            Some(b'>') => return (tag, position + 1),
            _ => {}
        }
        let key_start = position;
        while position < bytes.len()
            && !bytes[position].is_ascii_whitespace()
            && !matches!(bytes[position], b'=' | b'>' | b'/')
        {
            position += 1;
        }
        let key = rest[key_start..position].to_ascii_lowercase();
        while position < bytes.len() && bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        let mut value = String::new();
        if bytes.get(position) == Some(&b'=') {
            position += 1;
            while position < bytes.len() && bytes[position].is_ascii_whitespace() {
                position += 1;
            }
            let (raw, next) = attribute_value(rest, position);
            value = decode_entities(raw).into_owned();
            position = next;
        }
        // An empty key means a stray `=`, consumed above with its value.
        if !key.is_empty() && tag.attributes.len() < 64 {
            tag.attributes.push((key, value));
        }
    }
}

fn attribute_value(rest: &str, position: usize) -> (&str, usize) {
    let bytes = rest.as_bytes();
    match bytes.get(position) {
        Some(&quote @ (b'"' | b'\'')) => {
            let start = position + 1;
            match memchr(quote, &bytes[start..]) {
                Some(length) => (&rest[start..start + length], start + length + 1),
                None => (&rest[start..], rest.len()),
            }
        }
        _ => {
            let mut end = position;
            while end < bytes.len() && !bytes[end].is_ascii_whitespace() && bytes[end] != b'>' {
                end += 1;
            }
            (&rest[position..end], end)
        }
    }
}

/// Builds rendered text: white space collapses, explicit breaks are kept (at most one blank
/// line), zero-width characters are dropped.
#[derive(Default)]
struct TextWriter {
    out: String,
    pending_space: bool,
    pending_newlines: u8,
}

impl TextWriter {
    fn push(&mut self, text: &str) {
        for c in text.chars() {
            if matches!(
                c,
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
            ) {
                continue;
            }
            if c.is_whitespace() {
                self.pending_space = true;
                continue;
            }
            if !self.out.is_empty() {
                if self.pending_newlines > 0 {
                    for _ in 0..self.pending_newlines {
                        self.out.push('\n');
                    }
                } else if self.pending_space {
                    self.out.push(' ');
                }
            }
            self.pending_space = false;
            self.pending_newlines = 0;
            self.out.push(c);
        }
    }

    fn space(&mut self) {
        self.pending_space = true;
    }

    fn newline(&mut self) {
        self.pending_newlines = self.pending_newlines.max(1);
    }

    fn paragraph(&mut self) {
        self.pending_newlines = 2;
    }

    fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_and_collects_links() {
        let html = r#"<html><head><title>T</title><style>p{color:red}</style></head>
<body><p>Dear&nbsp;customer,</p><p>Please <a href="https://evil.example/login?a=1&amp;b=2">https://www.bank.example/login</a> now.</p>
<script>var x = "<a href='no'>";</script><!-- <a href="hidden"> -->
<a href=http://x.example/><img src="https://cdn.example/logo.png" alt="Bank logo"></a>
<form action="https://collect.example/post"><input name=p></form>pass&#8203;word</body></html>"#;
        let scan = scan(html, 100);
        assert_eq!(
            scan.text,
            "Dear customer,\n\nPlease https://www.bank.example/login now.\n\npassword"
        );
        assert_eq!(
            scan.links,
            [
                (
                    "https://evil.example/login?a=1&b=2".to_string(),
                    "https://www.bank.example/login".to_string()
                ),
                ("http://x.example/".to_string(), "Bank logo".to_string()),
            ]
        );
        assert_eq!(
            scan.resources,
            [
                "https://cdn.example/logo.png",
                "https://collect.example/post"
            ]
        );
    }

    #[test]
    fn tolerates_broken_markup() {
        for html in [
            "<",
            "<a",
            "<a href=",
            "<a href='x",
            "</",
            "<!--",
            "<script>",
            "a < b > c",
            "<a href=x>text",
            "<<>>",
            "<p/ ><br/>",
        ] {
            let _ = scan(html, 10);
        }
        assert_eq!(scan("a < b", 10).text, "a < b");
        assert_eq!(
            scan("<a href=x>unclosed", 10).links,
            [("x".to_string(), "unclosed".to_string())]
        );
    }

    #[test]
    fn caps_links() {
        let html = "<a href=a>1</a><a href=b>2</a><a href=c>3</a>";
        let scan = scan(html, 2);
        assert_eq!(scan.links.len(), 2);
        assert_eq!(scan.links_dropped, 1);
    }
}
