//! Arbitrary text through the credential-reference scanner, which runs on every string an
//! HTTP request and every recorded output holds. It must never panic, must leave text without
//! markers unchanged, and must find a marker spliced into the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_model::expr::{CredentialRef, references, replace_references};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found = references(text);
    let unchanged = replace_references::<()>(text, |r| Ok(r.marker())).unwrap();
    assert_eq!(unchanged, text);
    let marker = CredentialRef {
        name: "fuzz".into(),
        field: Some("password".into()),
    };
    let middle = text.len() / 2;
    let split = (0..=middle).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    // Spaced off: text ending in `@@credential:NONCE:x` would otherwise end in a marker that
    // shares the spliced one's leading `@@` (only text that knows the nonce can do that).
    let spliced = format!("{} {} {}", &text[..split], marker.marker(), &text[split..]);
    let with_marker = references(&spliced);
    assert!(with_marker.contains(&marker), "{spliced:?}");
    assert!(with_marker.len() >= found.len());
});
