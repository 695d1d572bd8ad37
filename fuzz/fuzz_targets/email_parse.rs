//! Fuzzes email analysis: any bytes must give a report that serialises, never a panic, a hang
//! or unbounded memory. Seed the corpus with the fixture messages:
//! `cargo +nightly fuzz run email_parse corpus/email_parse ../crates/muster-intel/tests/emails`
//! (without nightly: `RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none email_parse …`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_intel::email;

fuzz_target!(|data: &[u8]| {
    let report = email::parse(data);
    assert_eq!(report.size, data.len());
    assert!(serde_json::to_string(&report).is_ok());
});
