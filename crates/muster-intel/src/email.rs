//! Email forensics: takes a raw RFC 5322 / MIME message (`.eml`) apart for phishing triage.
//!
//! [`parse`] returns one serde-serialisable [`EmailReport`]: headers, sender identity with
//! mismatch flags, the `Received` chain and originating IP, SPF/DKIM/DMARC verdicts, text and
//! HTML bodies with a text rendering of the HTML, links (flagged when their text shows another
//! site than their target), every distinct URL, attachments with hashes, recognised types and
//! risk flags (attached messages are analysed recursively), and the IOCs of all of it.
//!
//! Any bytes are accepted: malformed, truncated, mislabelled or binary input gives a best-effort
//! report whose `warnings` say what went wrong. Work is bounded by [`EmailOptions`]; the
//! defaults are documented there and in `docs/intel.md`.

mod analyze;
mod attachments;
mod auth_results;
mod entities;
mod headers;
mod html;
mod input;
mod iocs;
mod links;
mod options;
mod parts;
mod received;
mod report;
mod sender_checks;
mod site;
mod sniff;

pub use options::EmailOptions;
pub use report::{
    Attachment, AuthSummary, AuthVerdict, AuthenticationResults, EmailReport, Flag, HeaderField,
    Hop, Link, LinkSource, Mailbox,
};

/// Analyses a raw message with the default limits. Never panics.
pub fn parse(raw: &[u8]) -> EmailReport {
    parse_with(raw, &EmailOptions::default())
}

/// Analyses a raw message with the given limits and switches. Never panics.
pub fn parse_with(raw: &[u8], options: &EmailOptions) -> EmailReport {
    analyze::analyse(raw, options, 0)
}
