//! The JSON document that email analysis produces.
//!
//! Field names are a contract: playbooks and scripts (`muster intel email FILE.eml --json`)
//! read `from`, `subject`, `urls`, `attachments[].filename`, `attachments[].content_type`,
//! `attachments[].size` and `attachments[].sha256` by name. Add fields freely; do not rename.

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything learned from one message. Every field is present in the JSON (empty when the
/// message has nothing for it), so scripts never need to test for a missing key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EmailReport {
    /// Size in bytes of the raw message that was given.
    pub size: usize,
    /// SHA-256 of the raw message, for de-duplicating reports of the same email.
    pub sha256: String,
    /// Every header field of the top-level part, in order, unfolded but not decoded.
    pub headers: Vec<HeaderField>,
    /// The first mailbox of `From`.
    pub from: Option<Mailbox>,
    pub sender: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// The address of the `Return-Path` (envelope sender as recorded by the final MTA).
    pub return_path: Option<String>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// `Date` as RFC 3339.
    pub date: Option<String>,
    pub message_id: Option<String>,
    /// `Subject`, RFC 2047 decoded.
    pub subject: Option<String>,
    /// `Received` hops, oldest first (the reverse of header order).
    pub received: Vec<Hop>,
    /// Client IP of the oldest hop whose client is not on a private, loopback, link-local or
    /// shared (CGNAT) network.
    pub originating_ip: Option<String>,
    /// SPF, DKIM and DMARC verdicts from the topmost `Authentication-Results` header that has any.
    pub auth: AuthSummary,
    /// Every `Authentication-Results` header, in header order.
    pub authentication_results: Vec<AuthenticationResults>,
    /// The plain-text body (text parts joined), possibly truncated (see `warnings`).
    pub text_body: Option<String>,
    /// The HTML body (HTML parts joined), possibly truncated.
    pub html_body: Option<String>,
    /// A plain-text rendering of `html_body`.
    pub html_text: Option<String>,
    /// Links of the HTML body (`<a>`, `<area>`) and of the text body.
    pub links: Vec<Link>,
    /// Every distinct absolute URL found anywhere, nested messages included, in order of
    /// appearance.
    pub urls: Vec<String>,
    /// Attachments, nested messages' attachments included (depth-first; `depth` says where).
    pub attachments: Vec<Attachment>,
    /// Indicators found by the IOC extractor in headers, bodies, link targets, attachment names
    /// and hashes, grouped by type.
    pub iocs: BTreeMap<String, Vec<String>>,
    /// Phishing-triage findings, in a stable order.
    pub flags: Vec<Flag>,
    /// What could not be parsed or was cut to stay within limits. Non-empty means the report is
    /// best effort.
    pub warnings: Vec<String>,
}

/// One header field as it appears in the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderField {
    pub name: String,
    pub value: String,
}

/// A mailbox of an address header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// Display name, RFC 2047 decoded.
    pub name: Option<String>,
    pub address: Option<String>,
    /// Lower-cased domain of `address`.
    pub domain: Option<String>,
}

/// One `Received` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The host name the client gave or that its IP resolved to.
    pub from_host: Option<String>,
    /// The client IP this hop recorded.
    pub from_ip: Option<String>,
    /// The server that added the header.
    pub by_host: Option<String>,
    /// Protocol (`ESMTPS`, `SMTP`, `HTTP`, …).
    pub with: Option<String>,
    /// The hop's timestamp as RFC 3339.
    pub timestamp: Option<String>,
    /// Every IP address that appears in the header.
    pub ips: Vec<String>,
    /// The header value, unfolded.
    pub raw: String,
}

/// One `Authentication-Results` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthenticationResults {
    pub authserv_id: Option<String>,
    pub results: Vec<AuthVerdict>,
}

/// One method's result (`spf=pass smtp.mailfrom=example.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthVerdict {
    /// `spf`, `dkim`, `dmarc`, `arc`, …, lower-cased.
    pub method: String,
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`, `policy`, …
    pub result: String,
    /// The domain the result is about: `smtp.mailfrom` (or `smtp.helo`) for SPF, `header.d`
    /// (or the domain of `header.i`) for DKIM, `header.from` for DMARC.
    pub domain: Option<String>,
    /// `reason="…"` when given.
    pub reason: Option<String>,
    /// Every `ptype.property=value` pair, such as `smtp.mailfrom` or `header.s`.
    pub properties: BTreeMap<String, String>,
}

/// The verdicts that triage looks at first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthSummary {
    pub spf: Option<AuthVerdict>,
    pub dkim: Vec<AuthVerdict>,
    pub dmarc: Option<AuthVerdict>,
}

/// Where a link was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSource {
    Html,
    Text,
}

/// A clickable link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The target, entity-decoded, as written.
    pub href: String,
    /// What the reader sees (the rendered text inside `<a>`); `None` for text-body links.
    pub text: Option<String>,
    pub source: LinkSource,
    /// The displayed text is a URL or a domain of another site than `href`'s.
    pub text_mismatch: bool,
}

/// An attached file, inline part with a file name, or attached message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attachment {
    pub filename: Option<String>,
    /// Declared `Content-Type` (type/subtype, lower-cased).
    pub content_type: String,
    /// Type recognised from the first bytes, when recognised.
    pub sniffed_type: Option<String>,
    /// `attachment` or `inline`, as declared.
    pub disposition: Option<String>,
    /// Decoded size in bytes.
    pub size: usize,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    /// 0 for a file attached to this message, 1 for a file inside an attached message, …
    pub depth: usize,
    /// File name (or subject) of the attached message this file came from, if any.
    pub container: Option<String>,
    /// Risk findings: `double_extension`, `executable`, `macro_capable`, `vba_macros`,
    /// `archive`, `encrypted_archive`, `type_mismatch`, `rtlo_in_filename`.
    pub flags: Vec<String>,
    /// The analysis of an attached message (`message/rfc822`).
    pub message: Option<Box<EmailReport>>,
}

/// A triage finding about the whole message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Stable identifier, for example `reply_to_domain_mismatch`.
    pub code: String,
    /// What was seen, for a human.
    pub detail: String,
}

impl Flag {
    pub(crate) fn new(code: &str, detail: String) -> Self {
        Flag {
            code: code.to_string(),
            detail,
        }
    }
}

impl EmailReport {
    /// Whether a flag with `code` was raised.
    pub fn has_flag(&self, code: &str) -> bool {
        self.flags.iter().any(|flag| flag.code == code)
    }
}
