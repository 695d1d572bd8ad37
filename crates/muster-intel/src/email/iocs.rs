//! Indicators of a message: the text worth scanning is gathered (bounded) and handed to the IOC
//! extractor once.

use std::collections::BTreeMap;

use crate::ioc::{ExtractOptions, extract_grouped};

/// Text gathered for IOC extraction, at most `limit` bytes.
pub(crate) struct IocText {
    text: String,
    limit: usize,
    /// Some text did not fit.
    pub truncated: bool,
}

impl IocText {
    pub(crate) fn new(limit: usize) -> Self {
        IocText {
            text: String::new(),
            limit,
            truncated: false,
        }
    }

    /// Adds `piece` on its own line, cut (at a character boundary) when the limit is reached.
    pub(crate) fn push(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        let room = self.limit.saturating_sub(self.text.len() + 1);
        if room == 0 {
            self.truncated = true;
            return;
        }
        let mut end = piece.len().min(room);
        while !piece.is_char_boundary(end) {
            end -= 1;
        }
        if end < piece.len() {
            self.truncated = true;
        }
        self.text.push_str(&piece[..end]);
        self.text.push('\n');
    }

    /// Runs the extractor over the gathered text.
    pub(crate) fn extract(&self) -> BTreeMap<String, Vec<String>> {
        if self.text.is_empty() {
            return BTreeMap::new();
        }
        extract_grouped(&self.text, &ExtractOptions::default())
    }
}

/// Adds the values of `other` to `into`, keeping each list free of duplicates and in order.
pub(crate) fn merge(
    into: &mut BTreeMap<String, Vec<String>>,
    other: &BTreeMap<String, Vec<String>>,
) {
    for (kind, values) in other {
        let list = into.entry(kind.clone()).or_default();
        for value in values {
            if !list.contains(value) {
                list.push(value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_the_limit_on_a_char_boundary() {
        let mut text = IocText::new(8);
        text.push("abc");
        text.push("déf");
        assert_eq!(text.text, "abc\ndé\n");
        assert!(text.truncated);
        text.push("more");
        assert_eq!(text.text, "abc\ndé\n");
    }

    #[test]
    fn merge_keeps_order_and_drops_duplicates() {
        let mut into = BTreeMap::from([("url".to_string(), vec!["a".to_string()])]);
        let other = BTreeMap::from([
            ("url".to_string(), vec!["b".to_string(), "a".to_string()]),
            ("ipv4".to_string(), vec!["1.2.3.4".to_string()]),
        ]);
        merge(&mut into, &other);
        assert_eq!(into["url"], ["a", "b"]);
        assert_eq!(into["ipv4"], ["1.2.3.4"]);
    }
}
