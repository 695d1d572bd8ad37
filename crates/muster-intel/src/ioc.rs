//! Indicator extraction.

use std::collections::BTreeMap;

/// What to extract and how.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {}

/// Extracts indicators and groups their refanged values by type name, in order of
/// appearance: `{"ipv4": ["203.0.113.7"], "url": ["http://evil.example/x"]}`.
pub fn extract_grouped(text: &str, options: &ExtractOptions) -> BTreeMap<String, Vec<String>> {
    unimplemented!("extract_grouped {text} {options:?}")
}
