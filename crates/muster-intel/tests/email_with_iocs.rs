//! Email analysis with everything on: sender and link checks (which compare registered domains
//! through `crate::domain::registered_domain`) and indicator extraction (`crate::ioc`).
//! Tests whose names start with `sites_` need only the domain helpers.

mod email_support;

use email_support::{apply, fixture, fixture_names, mutation};
use muster_intel::email::{EmailOptions, EmailReport, parse, parse_with};
use proptest::prelude::*;

fn analyse_sites_only(name: &str) -> EmailReport {
    let options = EmailOptions {
        extract_iocs: false,
        ..EmailOptions::default()
    };
    parse_with(&fixture(name), &options)
}

fn codes(report: &EmailReport) -> Vec<&str> {
    report.flags.iter().map(|flag| flag.code.as_str()).collect()
}

#[test]
fn sites_display_name_spoofing_and_link_mismatch() {
    let report = analyse_sites_only("01_paypal_display_name_spoof.eml");
    let from = report.from.as_ref().unwrap();
    assert_eq!(from.name.as_deref(), Some("service@paypal.com"));
    assert_eq!(from.domain.as_deref(), Some("paypa1-account.top"));
    assert_eq!(
        codes(&report),
        [
            "display_name_spoofing",
            "spf_fail",
            "dmarc_fail",
            "link_text_mismatch"
        ]
    );
    // Return-Path is on a sub-domain of the From domain: the same site, no flag.
    assert_eq!(
        report.return_path.as_deref(),
        Some("bounce-7731@mailer.paypa1-account.top")
    );
    assert_eq!(report.originating_ip.as_deref(), Some("203.0.113.77"));
    let hops: Vec<_> = report
        .received
        .iter()
        .map(|hop| hop.from_ip.as_deref())
        .collect();
    assert_eq!(
        hops,
        [Some("203.0.113.77"), Some("192.0.2.25"), Some("10.20.1.15")]
    );
    let spoofed = &report.links[0];
    assert_eq!(
        spoofed.href,
        "https://paypa1-account.top/cgi-bin/webscr?cmd=_login&id=77A1"
    );
    assert_eq!(
        spoofed.text.as_deref(),
        Some("https://www.paypal.com/signin")
    );
    assert!(spoofed.text_mismatch);
    assert!(report.links[1..].iter().all(|link| !link.text_mismatch));
    assert!(
        report
            .urls
            .contains(&"https://paypa1-account.top/t.gif?u=j.smith".to_string())
    );
    let dmarc = report.auth.dmarc.as_ref().unwrap();
    assert_eq!(
        (dmarc.result.as_str(), dmarc.domain.as_deref()),
        ("fail", Some("paypa1-account.top"))
    );
}

#[test]
fn sites_reply_to_mismatch() {
    let report = analyse_sites_only("02_ceo_fraud_reply_to.eml");
    assert_eq!(codes(&report), ["reply_to_domain_mismatch"]);
    assert_eq!(
        report.reply_to[0].address.as_deref(),
        Some("john.carter.ceo@gmail.com")
    );
    assert!(report.flags[0].detail.contains("northwind-traders.com"));
    assert_eq!(report.auth.spf.as_ref().unwrap().result, "pass");
    assert_eq!(
        report.auth.dkim[0].domain.as_deref(),
        Some("northwind-traders.com")
    );
}

#[test]
fn sites_html_link_text_mismatch() {
    let report = analyse_sites_only("03_o365_link_mismatch_qp.eml");
    let mismatched: Vec<_> = report
        .links
        .iter()
        .filter(|link| link.text_mismatch)
        .map(|link| link.text.as_deref().unwrap())
        .collect();
    assert_eq!(
        mismatched,
        ["https://account.microsoft.com/security", "www.office.com"]
    );
    // `microsoft.com` shown for a www.microsoft.com target is the same site.
    assert!(!report.links[2].text_mismatch);
    assert_eq!(report.text_body, None);
    let text = report.html_text.as_deref().unwrap();
    assert!(
        text.contains("Password expiry notice – Microsoft Corporation"),
        "{text}"
    );
    assert_eq!(
        report.urls[0],
        "https://login-microsoftonline.cc/common/oauth2/?client=7f&user=j.smith%40contoso.com"
    );
}

#[test]
fn sites_legitimate_newsletter_raises_nothing() {
    let report = analyse_sites_only("15_legit_newsletter.eml");
    assert!(report.flags.is_empty(), "{:?}", report.flags);
    assert_eq!(report.links.len(), 3);
    assert_eq!(report.auth.dmarc.as_ref().unwrap().result, "pass");
}

#[test]
fn sites_sender_and_return_path_mismatch() {
    let report = analyse_sites_only("17_inline_qr_related.eml");
    assert_eq!(
        codes(&report),
        ["sender_domain_mismatch", "return_path_domain_mismatch"]
    );
    let image = &report.attachments[0];
    assert_eq!(image.filename.as_deref(), Some("mfa_qr.png"));
    assert_eq!(image.disposition.as_deref(), Some("inline"));
    assert_eq!(image.sniffed_type.as_deref(), Some("image/png"));
}

#[test]
fn iocs_cover_headers_bodies_links_and_attachments() {
    let report = parse(&fixture("01_paypal_display_name_spoof.eml"));
    let all: Vec<&String> = report.iocs.values().flatten().collect();
    for expected in [
        "https://paypa1-account.top/cgi-bin/webscr?cmd=_login&id=77A1",
        "203.0.113.77",
        "security-alert@paypa1-account.top",
    ] {
        assert!(
            all.iter().any(|value| *value == expected),
            "{expected} not in {:?}",
            report.iocs
        );
    }

    let report = parse(&fixture("09_report_with_attached_phish.eml"));
    let exe = &report.attachments[1];
    let all: Vec<&String> = report.iocs.values().flatten().collect();
    assert!(
        all.contains(&&exe.sha256),
        "hash of the nested attachment: {:?}",
        report.iocs
    );
    assert!(
        all.iter()
            .any(|value| value.as_str() == "http://fedex-invoices.top/pay/88213")
    );
}

#[test]
fn every_fixture_snapshot() {
    for name in fixture_names() {
        let report = parse(&fixture(&name));
        insta::with_settings!({ snapshot_suffix => name.trim_end_matches(".eml") }, {
            insta::assert_json_snapshot!("full", report);
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_messages_never_panic(
        index in 0..17usize,
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let names = fixture_names();
        let raw = apply(fixture(&names[index % names.len()]), &mutations);
        let report = parse(&raw);
        prop_assert_eq!(report.size, raw.len());
        prop_assert!(serde_json::to_string(&report).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic_with_iocs(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let report = parse(&raw);
        prop_assert_eq!(report.size, raw.len());
    }
}
