//! Limits and switches for email analysis.
//!
//! Every limit keeps memory and time proportional to a bounded input: when one is reached the
//! analysis goes on with what it has and says so in `warnings`, naming the limit.

/// How much of a message to analyse, and whether to extract indicators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailOptions {
    /// Bytes of raw message read; the rest is dropped (a truncated message is still analysed).
    pub max_input_bytes: usize,
    /// MIME parts (multipart containers, leaves and attached messages) analysed.
    pub max_parts: usize,
    /// Header lines (of the message and of its parts, folded lines included) read; the input is
    /// cut before the first line beyond.
    pub max_header_lines: usize,
    /// Attached messages parsed inside attached messages; deeper ones are listed and hashed
    /// but not opened.
    pub max_depth: usize,
    /// Characters kept of each of `text_body`, `html_body` and `html_text`.
    pub max_body_chars: usize,
    /// Bytes of HTML tokenised for links and text per message.
    pub max_html_bytes: usize,
    /// Links kept per message.
    pub max_links: usize,
    /// Bytes of text handed to the IOC extractor per message.
    pub max_ioc_text_bytes: usize,
    /// Run the IOC extractor (`iocs` stays empty when false).
    pub extract_iocs: bool,
}

impl Default for EmailOptions {
    fn default() -> Self {
        EmailOptions {
            max_input_bytes: 32 * 1024 * 1024,
            max_parts: 1_000,
            max_header_lines: 10_000,
            max_depth: 8,
            max_body_chars: 1024 * 1024,
            max_html_bytes: 4 * 1024 * 1024,
            max_links: 2_000,
            max_ioc_text_bytes: 2 * 1024 * 1024,
            extract_iocs: true,
        }
    }
}
