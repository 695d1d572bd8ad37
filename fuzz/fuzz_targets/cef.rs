//! Fuzzes the CEF parser and the generic CEF profile: any input must give a value or an
//! error, never a panic, and errors must point inside the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_intel::normalize::{self, cef};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    match cef::parse(line) {
        Ok(parsed) => assert!(parsed.value.is_object()),
        Err(error) => assert!(error.column >= 1 && error.column <= line.chars().count() + 1),
    }
    if let Some(profile) = normalize::profile("cef_generic") {
        let _ = profile.normalize_text(line);
    }
});
