//! Email analysis never panics and stays within its limits, whatever the bytes. Indicator
//! extraction is off here so that these tests exercise the MIME and analysis code alone; the
//! same properties with extraction on, and mutated real messages (whose mutations can create
//! sender or link mismatches that need the Public Suffix List), are in `email_with_iocs.rs`.

mod email_support;

use email_support::fixture;
use muster_intel::email::{EmailOptions, EmailReport, parse_with};
use proptest::prelude::*;

fn options() -> EmailOptions {
    EmailOptions {
        extract_iocs: false,
        ..EmailOptions::default()
    }
}

fn analyse(raw: &[u8]) -> EmailReport {
    parse_with(raw, &options())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let report = analyse(&raw);
        prop_assert_eq!(report.size, raw.len());
    }
}

#[test]
fn empty_and_garbage_inputs_give_a_warning() {
    for raw in [&b""[..], b"\0\0\0\0", b"\xff\xfe binary", b"\r\n\r\n\r\n"] {
        let report = analyse(raw);
        assert_eq!(report.from, None);
        assert!(!report.warnings.is_empty(), "{raw:?}");
    }
}

#[test]
fn deeply_nested_multiparts_are_cut_at_the_container_limit() {
    let mut raw = b"From: a@b.example\r\nSubject: nest\r\n".to_vec();
    for level in 0..10_000 {
        raw.extend(
            format!("Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n")
                .as_bytes(),
        );
    }
    raw.extend(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
    let report = analyse(&raw);
    assert_eq!(report.subject.as_deref(), Some("nest"));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("multipart containers")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn deeply_nested_attached_messages_stop_at_max_depth() {
    let mut raw = Vec::new();
    for level in 0..5_000 {
        raw.extend(
            format!("Subject: level {level}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes(),
        );
    }
    raw.extend(b"Subject: bottom\r\n\r\nbody\r\n");
    let report = analyse(&raw);
    assert_eq!(report.subject.as_deref(), Some("level 0"));
    let mut depth = 0;
    let mut current = &report;
    while let Some(inner) = current
        .attachments
        .first()
        .and_then(|a| a.message.as_deref())
    {
        depth += 1;
        current = inner;
    }
    assert_eq!(depth, options().max_depth);
    assert!(report.warnings.iter().any(|w| w.contains("max_depth")));
}

#[test]
fn base64_encoded_message_bombs_stay_bounded() {
    use base64::Engine as _;
    // An attached message whose decoded content nests further attached messages.
    let mut inner = Vec::new();
    for _ in 0..20_000 {
        inner.extend(b"Content-Type: message/rfc822\r\n\r\n");
    }
    let mut raw = b"Subject: bomb\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    raw.extend(
        base64::engine::general_purpose::STANDARD
            .encode(&inner)
            .as_bytes(),
    );
    raw.extend(b"\r\n--x--\r\n");
    let report = analyse(&raw);
    assert_eq!(report.subject.as_deref(), Some("bomb"));
    assert!(report.warnings.iter().any(|w| w.contains("max_depth")));
}

#[test]
fn many_parts_are_cut_at_max_parts() {
    let mut raw = b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n".to_vec();
    for index in 0..5_000 {
        raw.extend(
            format!(
                "--p\r\nContent-Type: application/octet-stream; name=\"f{index}.bin\"\r\n\r\nx\r\n"
            )
            .as_bytes(),
        );
    }
    raw.extend(b"--p--\r\n");
    let report = analyse(&raw);
    assert!(report.attachments.len() <= options().max_parts);
    assert!(report.warnings.iter().any(|w| w.contains("max_parts")));
}

#[test]
fn inputs_beyond_max_input_bytes_are_cut() {
    let mut raw = b"Subject: big\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    raw.resize(100 * 1024 * 1024, b'a');
    let report = analyse(&raw);
    assert_eq!(report.size, raw.len());
    assert_eq!(report.subject.as_deref(), Some("big"));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("max_input_bytes"))
    );
    let body = report.text_body.as_deref().unwrap();
    assert_eq!(body.chars().count(), options().max_body_chars);
    assert!(report.warnings.iter().any(|w| w.contains("max_body_chars")));
}

#[test]
fn small_limits_are_reported_by_name() {
    let raw = fixture("04_base64_alternative_utf8.eml");
    let options = EmailOptions {
        max_body_chars: 10,
        max_links: 0,
        extract_iocs: false,
        ..EmailOptions::default()
    };
    let report = parse_with(&raw, &options);
    assert_eq!(report.text_body.as_deref(), Some("Hallo Jana"));
    assert!(report.links.is_empty());
    assert!(report.warnings.iter().any(|w| w.contains("max_links")));
}

#[test]
fn header_floods_are_cut_at_max_header_lines() {
    let mut raw = b"Subject: flood\r\n".to_vec();
    for index in 0..200_000 {
        raw.extend(format!("X-{index}: y\r\n").as_bytes());
    }
    raw.extend(b"\r\nbody\r\n");
    let report = analyse(&raw);
    assert_eq!(report.subject.as_deref(), Some("flood"));
    assert_eq!(report.headers.len(), options().max_header_lines);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("max_header_lines"))
    );
}
