//! Indicator extraction, refang and defang on arbitrary input: no panic, every reported span
//! inside the input and equal to its `raw` text, and refang never grows the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_intel::defang::{defang, refang, refang_mapped};
use muster_intel::ioc::{ExtractOptions, extract};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for options in [
        ExtractOptions::default(),
        ExtractOptions { refang: false, dedupe: false, include_hosts: false, ..Default::default() },
    ] {
        for ioc in extract(&text, &options) {
            assert!(ioc.start < ioc.end && ioc.end <= text.len(), "{ioc:?}");
            assert_eq!(&text[ioc.start..ioc.end], ioc.raw);
            assert!(!ioc.value.is_empty());
        }
    }
    let refanged = refang_mapped(&text);
    assert!(refanged.as_str().len() <= text.len());
    for pos in 0..=refanged.as_str().len() {
        assert!(refanged.to_original(pos) <= text.len());
    }
    let _ = refang(&defang(&text));
});
