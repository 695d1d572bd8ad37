//! Extraction never panics, and every reported position lies inside the input, on any input:
//! arbitrary Unicode, indicator-heavy alphabets, lossily decoded binary, huge inputs.

use muster_intel::ioc::{ExtractOptions, Ioc, extract, extract_detailed};
use proptest::prelude::*;

fn check_positions(text: &str, iocs: &[Ioc]) -> Result<(), TestCaseError> {
    for ioc in iocs {
        prop_assert!(ioc.start < ioc.end && ioc.end <= text.len(), "{ioc:?}");
        prop_assert_eq!(text.get(ioc.start..ioc.end), Some(ioc.raw.as_str()));
        prop_assert!(!ioc.value.is_empty());
    }
    Ok(())
}

/// Characters that make up indicators and defanging, so that the recognisers' edge cases
/// are reached far more often than by uniformly random text.
const DENSE: &str =
    "[0-9a-fA-F.:/@\\[\\]()\\\\x -_hHtTpPsSkKlLmMcCuUvVeEoOdDnNwW%?#=&,;'\"<>ü“]{0,200}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text(text in any::<String>()) {
        let iocs = extract(&text, &ExtractOptions::default());
        check_positions(&text, &iocs)?;
    }

    #[test]
    fn indicator_dense_text(text in DENSE) {
        let iocs = extract(&text, &ExtractOptions::default());
        check_positions(&text, &iocs)?;
        let raw = ExtractOptions { refang: false, dedupe: false, ..ExtractOptions::default() };
        check_positions(&text, &extract(&text, &raw))?;
    }

    #[test]
    fn lossy_binary(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let iocs = extract(&text, &ExtractOptions::default());
        check_positions(&text, &iocs)?;
    }
}

#[test]
fn large_hostile_inputs_finish_and_stay_bounded() {
    // Long runs built to defeat naive scanners: dashed labels, dots, colons, a URL with no
    // end, and a registry key that never stops.
    let inputs = [
        "a-".repeat(500_000),
        "a.".repeat(500_000),
        "1:".repeat(500_000),
        format!("http://evil.com/{}", ")".repeat(1_000_000)),
        format!("HKLM\\{}", "x\\ ".repeat(300_000)),
        "1.1.1.1 ".repeat(200_000),
        "[.]".repeat(300_000),
        " dot ".repeat(200_000),
    ];
    for text in &inputs {
        let extraction = extract_detailed(text, &ExtractOptions::default());
        assert!(extraction.iocs.len() <= ExtractOptions::default().max_results);
        for ioc in &extraction.iocs {
            assert_eq!(&text[ioc.start..ioc.end], ioc.raw);
        }
    }
}

/// 100 MB of mixed indicators, defanging and binary noise. Ignored by default because it
/// takes long in debug builds; run with
/// `cargo test --release -p muster-intel --test ioc_robustness -- --ignored`.
#[test]
#[ignore = "100 MB input; run in release mode"]
fn hundred_megabytes_of_mixed_input() {
    let unit = "Beacon hxxps://cdn[.]evil-host.com/gate.php?id=42 from 10.1.2.3 to \
                203.0.113.9, dropped invoice.pdf.exe (d41d8cd98f00b204e9800998ecf8427e). \
                Version 10.0.19041.1 \u{0}\u{7f}\u{fffd}\u{fffd} ünïcödé 2001:db8::1 ";
    let mut text = String::with_capacity(100 << 20);
    let mut n = 0u32;
    while text.len() < 100 << 20 {
        text.push_str(unit);
        // Vary one address (131,072 values) so that de-duplication does not hide the volume.
        text.push_str(&format!(
            "198.{}.{}.{} ",
            18 + ((n >> 16) & 1),
            (n >> 8) & 0xff,
            n & 0xff
        ));
        n = n.wrapping_add(1);
    }
    let extraction = extract_detailed(&text, &ExtractOptions::default());
    assert!(extraction.truncated);
    assert_eq!(extraction.iocs.len(), ExtractOptions::default().max_results);
    for ioc in &extraction.iocs {
        assert_eq!(&text[ioc.start..ioc.end], ioc.raw);
    }
    let unbounded = ExtractOptions {
        max_results: usize::MAX,
        ..ExtractOptions::default()
    };
    let all = extract_detailed(&text, &unbounded);
    assert!(!all.truncated);
    assert!(all.iocs.len() > 131_072);
}
