//! Email analysis of the fixture messages in `tests/emails/` that need neither the IOC extractor
//! nor a Public Suffix List look-up (indicator extraction is off; none of these messages has a
//! sender or link whose site must be compared). The others are in `email_with_iocs.rs`.

use muster_intel::email::{EmailOptions, EmailReport, parse_with};

fn analyse(name: &str) -> EmailReport {
    let path = format!("{}/tests/emails/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let options = EmailOptions {
        extract_iocs: false,
        ..EmailOptions::default()
    };
    parse_with(&raw, &options)
}

fn codes(report: &EmailReport) -> Vec<&str> {
    report.flags.iter().map(|flag| flag.code.as_str()).collect()
}

fn snapshot(name: &str, report: &EmailReport) {
    insta::with_settings!({ snapshot_suffix => name.trim_end_matches(".eml") }, {
        insta::assert_json_snapshot!("structure", report);
    });
}

#[test]
fn base64_alternative_utf8() {
    let name = "04_base64_alternative_utf8.eml";
    let report = analyse(name);
    assert_eq!(
        report.subject.as_deref(),
        Some("Quartalszahlen Q3 – Übersicht")
    );
    let from = report.from.as_ref().unwrap();
    assert_eq!(from.name.as_deref(), Some("Martin Müller"));
    assert_eq!(from.domain.as_deref(), Some("contoso.com"));
    assert!(
        report
            .text_body
            .as_deref()
            .unwrap()
            .contains("Übersicht für das Quartal")
    );
    assert!(
        report
            .html_text
            .as_deref()
            .unwrap()
            .contains("findest du im Intranet.")
    );
    assert_eq!(report.links[0].text.as_deref(), Some("im Intranet"));
    assert_eq!(
        report.urls,
        ["https://intranet.contoso.com/finance/q3?view=summary"]
    );
    assert_eq!(report.originating_ip, None, "only internal hops");
    assert!(report.flags.is_empty() && report.warnings.is_empty());
    snapshot(name, &report);
}

#[test]
fn quoted_printable_text() {
    let name = "05_quoted_printable_text.eml";
    let report = analyse(name);
    assert_eq!(report.subject.as_deref(), Some("Réunion déplacée"));
    assert_eq!(
        report.from.as_ref().unwrap().name.as_deref(),
        Some("Élodie Durand")
    );
    let body = report.text_body.as_deref().unwrap();
    assert!(body.contains("La réunion de planification est déplacée à jeudi 14h."));
    assert!(body.contains("Élodie — Service RH"));
    assert!(!body.contains('\r'), "line endings are normalised");
    assert_eq!(
        report.urls,
        ["https://meet.contoso.com/j/8823110?pwd=abc123&lang=fr"]
    );
    snapshot(name, &report);
}

#[test]
fn iso_8859_1_body() {
    let name = "06_iso_8859_1_body.eml";
    let report = analyse(name);
    assert_eq!(report.subject.as_deref(), Some("Votre colis est bloqué"));
    let body = report.text_body.as_deref().unwrap();
    assert!(body.contains("Votre colis n°FR-552981 est bloqué au dépôt."));
    assert!(body.contains("Des frais de réexpédition"));
    assert_eq!(
        report.urls,
        ["http://colis-suivi-fr.top/paiement?ref=FR552981"]
    );
    assert_eq!(report.originating_ip.as_deref(), Some("203.0.113.140"));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    snapshot(name, &report);
}

#[test]
fn windows_1252_quoted_printable() {
    let name = "07_windows_1252_qp.eml";
    let report = analyse(name);
    let body = report.text_body.as_deref().unwrap();
    assert!(body.contains("The “Q4 bonus” schedule"), "{body}");
    assert!(body.contains("payouts of €2,500"));
    assert!(body.contains("don’t forward"));
    snapshot(name, &report);
}

#[test]
fn rfc2047_headers() {
    let name = "08_rfc2047_headers.eml";
    let report = analyse(name);
    assert_eq!(
        report.subject.as_deref(),
        Some("Ihre Sendung ist unterwegs 🚚 – Zustellung fehlgeschlagen (Gebühr offen)")
    );
    assert_eq!(
        report.from.as_ref().unwrap().name.as_deref(),
        Some("DHL Express · Zustellung")
    );
    assert_eq!(report.to[0].name.as_deref(), Some("Lea Schülz"));
    // The raw header list keeps the encoded words.
    let raw_subject = report
        .headers
        .iter()
        .find(|header| header.name == "Subject")
        .unwrap();
    assert!(raw_subject.value.starts_with("=?UTF-8?B?"));
    snapshot(name, &report);
}

#[test]
fn report_with_attached_phish() {
    let name = "09_report_with_attached_phish.eml";
    let report = analyse(name);
    assert_eq!(report.subject.as_deref(), Some("FW: Invoice 88213 overdue"));
    assert_eq!(report.attachments.len(), 2);

    let eml = &report.attachments[0];
    assert_eq!(eml.filename.as_deref(), Some("Invoice 88213 overdue.eml"));
    assert_eq!(eml.content_type, "message/rfc822");
    assert_eq!(eml.depth, 0);
    let inner = eml.message.as_ref().expect("attached message analysed");
    assert_eq!(inner.subject.as_deref(), Some("Invoice 88213 overdue"));
    assert_eq!(
        inner.from.as_ref().unwrap().address.as_deref(),
        Some("accounts@fedex-invoices.top")
    );
    assert_eq!(inner.originating_ip.as_deref(), Some("198.51.100.99"));

    let exe = &report.attachments[1];
    assert_eq!(exe.filename.as_deref(), Some("Invoice_88213.pdf.exe"));
    assert_eq!(exe.sniffed_type.as_deref(), Some("application/x-dosexec"));
    assert_eq!(
        (exe.depth, exe.container.as_deref()),
        (1, Some("Invoice 88213 overdue.eml"))
    );
    assert_eq!(exe.size, 512);
    assert_eq!(exe.flags, ["double_extension", "executable"]);
    assert_eq!(
        exe,
        &inner.attachments[0].clone_at_depth(1, "Invoice 88213 overdue.eml")
    );

    assert_eq!(codes(&report), ["double_extension", "executable"]);
    assert!(
        report.flags[0]
            .detail
            .starts_with("in attached message Invoice 88213 overdue.eml")
    );
    assert_eq!(report.urls, ["http://fedex-invoices.top/pay/88213"]);
    snapshot(name, &report);
}

/// Mirrors how the outer report lists a nested attachment.
trait AtDepth {
    fn clone_at_depth(&self, depth: usize, container: &str) -> Self;
}

impl AtDepth for muster_intel::email::Attachment {
    fn clone_at_depth(&self, depth: usize, container: &str) -> Self {
        muster_intel::email::Attachment {
            depth,
            container: Some(container.to_string()),
            ..self.clone()
        }
    }
}

#[test]
fn macro_documents() {
    let name = "10_macro_documents.eml";
    let report = analyse(name);
    let docm = &report.attachments[0];
    assert_eq!(
        docm.filename.as_deref(),
        Some("Salary_Adjustment_2024.docm")
    );
    assert_eq!(
        docm.sniffed_type.as_deref(),
        Some("application/vnd.ms-word.document.macroEnabled.12")
    );
    assert_eq!(docm.flags, ["macro_capable", "vba_macros"]);
    let xls = &report.attachments[1];
    assert_eq!(
        xls.sniffed_type.as_deref(),
        Some("application/vnd.ms-excel")
    );
    assert_eq!(xls.flags, ["macro_capable", "vba_macros"]);
    assert!(report.has_flag("vba_macros"));
    snapshot(name, &report);
}

#[test]
fn encrypted_zip() {
    let name = "11_encrypted_zip.eml";
    let report = analyse(name);
    let zip = &report.attachments[0];
    assert_eq!(zip.filename.as_deref(), Some("Invoice_2024_10.zip"));
    assert_eq!(zip.content_type, "application/zip");
    assert_eq!(zip.sniffed_type.as_deref(), Some("application/zip"));
    assert_eq!(zip.flags, ["archive", "encrypted_archive"]);
    // "from unknown (HELO quickpay-docs.top) (203.0.113.55)": qmail style.
    assert_eq!(report.originating_ip.as_deref(), Some("203.0.113.55"));
    snapshot(name, &report);
}

#[test]
fn double_extension_and_droppers() {
    let name = "12_double_extension_and_droppers.eml";
    let report = analyse(name);
    let names: Vec<_> = report
        .attachments
        .iter()
        .map(|a| a.filename.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Scan_0034.pdf.js", "Report_\u{202E}fdp.lnk", "Invoices.img"]
    );
    assert_eq!(
        report.attachments[0].flags,
        ["double_extension", "executable"]
    );
    assert_eq!(report.attachments[0].content_type, "application/pdf");
    assert_eq!(
        report.attachments[1].sniffed_type.as_deref(),
        Some("application/x-ms-shortcut")
    );
    assert_eq!(
        report.attachments[1].flags,
        ["executable", "rtlo_in_filename"]
    );
    assert_eq!(
        report.attachments[2].sniffed_type.as_deref(),
        Some("application/x-iso9660-image")
    );
    assert_eq!(report.attachments[2].flags, ["executable"]);
    for attachment in &report.attachments {
        assert_eq!(attachment.sha256.len(), 64);
        assert_eq!(attachment.sha1.len(), 40);
        assert_eq!(attachment.md5.len(), 32);
    }
    snapshot(name, &report);
}

#[test]
fn malformed_headers() {
    let name = "13_malformed_headers.eml";
    let report = analyse(name);
    // The first of two From headers, and a flag for the second.
    assert_eq!(
        report.from.as_ref().unwrap().address.as_deref(),
        Some("admin@helpdesk-contoso.top")
    );
    assert_eq!(codes(&report)[0], "multiple_from_headers");
    // Raw 8-bit Latin-1 in the subject.
    assert_eq!(
        report.subject.as_deref(),
        Some("Mailbox quota exceeded été 99%")
    );
    assert_eq!(report.date, None);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w == "Date header could not be parsed")
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("unknown charset \"x-unknown-charset\""))
    );
    assert!(
        report
            .text_body
            .as_deref()
            .unwrap()
            .contains("http://helpdesk-contoso.top/quota?u=all")
    );
    // The damaged base64 HTML part is recovered as far as it is valid.
    let html = &report.attachments[0];
    assert_eq!(html.sniffed_type.as_deref(), Some("text/html"));
    assert!(report.warnings.iter().any(|w| w.contains("damaged base64")));
    snapshot(name, &report);
}

#[test]
fn truncated_message() {
    let name = "14_truncated_message.eml";
    let report = analyse(name);
    assert_eq!(
        report.subject.as_deref(),
        Some("Contract ready for signature")
    );
    assert_eq!(report.urls, ["https://sharefile-notice.top/d/7781"]);
    let pdf = &report.attachments[0];
    assert_eq!(pdf.filename.as_deref(), Some("Contract_7781.pdf"));
    assert_eq!(
        pdf.sniffed_type.as_deref(),
        Some("application/pdf"),
        "decoded as far as it goes"
    );
    assert!(!report.warnings.is_empty());
    snapshot(name, &report);
}

#[test]
fn html_attachment_phish() {
    let name = "16_html_attachment_phish.eml";
    let report = analyse(name);
    let page = &report.attachments[0];
    assert_eq!(page.filename.as_deref(), Some("Voicemail_0047.htm"));
    assert_eq!(page.flags, ["html_attachment"]);
    // The form action of the attached page.
    assert_eq!(report.urls, ["https://collect-creds.top/gate.php"]);
    // Received-SPF is the SPF source when Authentication-Results has none.
    let spf = report.auth.spf.as_ref().unwrap();
    assert_eq!(
        (spf.result.as_str(), spf.domain.as_deref()),
        ("softfail", Some("pbx-notify.top"))
    );
    assert_eq!(codes(&report), ["spf_fail", "html_attachment"]);
    snapshot(name, &report);
}

#[test]
fn json_has_the_keys_scripts_use() {
    let report = analyse("12_double_extension_and_droppers.eml");
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "from",
        "subject",
        "urls",
        "attachments",
        "iocs",
        "flags",
        "warnings",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    for key in ["filename", "content_type", "size", "sha256"] {
        assert!(
            json["attachments"][0].get(key).is_some(),
            "missing attachments[].{key}"
        );
    }
}

#[test]
fn text_attachments_are_hashed_as_files_not_as_converted_text() {
    use sha2::{Digest, Sha256};
    let latin1 = b"caf\xe9 cr\xe8me\r\n";
    let raw = "Subject: t\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachments\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1; name=\"a.txt\"\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\nY2Fm6SBjcuhtZQ0K\r\n--b\r\nContent-Type: text/csv; charset=windows-1252; name=\"b.csv\"\r\nContent-Disposition: attachment; filename=\"b.csv\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 cr=E8me\r\n--b\r\nContent-Type: text/plain; name=\"c.txt\"\r\nContent-Disposition: attachment; filename=\"c.txt\"\r\n\r\nplain\r\n--b--\r\n";
    let options = EmailOptions {
        extract_iocs: false,
        ..EmailOptions::default()
    };
    let report = parse_with(raw.as_bytes(), &options);
    let sha = |data: &[u8]| hex::encode(Sha256::digest(data));
    assert_eq!(report.attachments.len(), 3);
    assert_eq!(report.attachments[0].sha256, sha(latin1));
    assert_eq!(report.attachments[0].size, latin1.len());
    assert_eq!(report.attachments[1].sha256, sha(b"caf\xe9 cr\xe8me"));
    assert_eq!(report.attachments[2].sha256, sha(b"plain"));
}

#[test]
fn unlabelled_8bit_bodies_are_read_as_windows_1252() {
    let raw = b"Subject: t\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nFacture impay\xe9e \x80 r\xe9gler\r\n";
    let options = EmailOptions {
        extract_iocs: false,
        ..EmailOptions::default()
    };
    let report = parse_with(raw, &options);
    assert_eq!(
        report.text_body.as_deref(),
        Some("Facture impayée € régler")
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}
