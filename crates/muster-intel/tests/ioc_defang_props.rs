//! Property tests for defang/refang: refanging undoes defanging, and defanged indicators are
//! no longer live.

use muster_intel::defang::{defang, refang, refang_mapped};
use proptest::prelude::*;

/// Text pieces free of any defanging notation: no brackets, backslashes, `x` (so no `hxxp`
/// or `fxp`) and no `t` (so no spelled-out ` dot ` or ` at `).
fn plain_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-su-wyzA-SU-WYZ0-9 .,;@:/_-]{0,24}",
        1 => Just("http://".to_owned()),
        1 => Just("https://".to_owned()),
        1 => Just("HTTPS://".to_owned()),
        1 => Just("ftp://".to_owned()),
    ]
}

fn plain_text() -> impl Strategy<Value = String> {
    prop::collection::vec(plain_piece(), 0..8).prop_map(|pieces| pieces.concat())
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..4),
        "(com|net|co\\.uk|zip|ru)",
    )
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

fn ipv4() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]))
}

fn indicator() -> impl Strategy<Value = String> {
    prop_oneof![
        domain(),
        ipv4(),
        ("(http|https|ftp|HTTP)", domain(), "[a-z0-9/._-]{0,20}")
            .prop_map(|(s, d, p)| format!("{s}://{d}/{p}")),
        (label(), domain()).prop_map(|(user, d)| format!("{user}@{d}")),
        ("https?", ipv4()).prop_map(|(s, ip)| format!("{s}://{ip}/")),
    ]
}

proptest! {
    #[test]
    fn refang_undoes_defang_on_plain_text(text in plain_text()) {
        prop_assert_eq!(refang(&defang(&text)), text);
    }

    #[test]
    fn refang_undoes_defang_on_indicators(ioc in indicator()) {
        let defanged = defang(&ioc);
        prop_assert!(!defanged.replace("[://]", "").contains("://"), "{defanged}");
        prop_assert!(!defanged.to_ascii_lowercase().contains("http"), "{defanged}");
        prop_assert!(!defanged.contains('@') || defanged.contains("[@]"), "{defanged}");
        prop_assert_eq!(refang(&defanged), ioc);
    }

    #[test]
    fn refang_never_panics_and_maps_inside_the_input(text in any::<String>()) {
        let refanged = refang_mapped(&text);
        let out = refanged.as_str();
        prop_assert!(out.len() <= text.len());
        for pos in 0..=out.len() {
            prop_assert!(refanged.to_original(pos) <= text.len());
        }
        let _ = defang(&text);
    }

    #[test]
    fn refang_maps_defanged_text_inside_the_input(text in "[a-z .@:/\\[\\]()]{0,60}") {
        let refanged = refang_mapped(&text);
        for pos in 0..=refanged.as_str().len() {
            prop_assert!(refanged.to_original(pos) <= text.len());
        }
    }
}
