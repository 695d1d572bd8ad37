//! Fuzzes email analysis: any bytes must give a report that serialises, never a panic, a hang
//! or unbounded memory. Seed the corpus with `crates/muster-intel/tests/emails/*.eml`:
//! `cargo fuzz run email_parse corpus/email_parse ../crates/muster-intel/tests/emails`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_intel::email;

fuzz_target!(|data: &[u8]| {
    let report = email::parse(data);
    assert_eq!(report.size, data.len());
    assert!(serde_json::to_string(&report).is_ok());
});
