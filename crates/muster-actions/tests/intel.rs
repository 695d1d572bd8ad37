//! The intelligence actions through the real engine: indicator extraction, email parsing and
//! alert normalisation, on the fixtures of `muster-intel`.

mod common;

use muster_store::RunStatus;
use muster_testkit::outputs_of;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../muster-intel/tests");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

#[tokio::test]
async fn extract_iocs_finds_defanged_indicators_and_honours_the_allow_list() {
    let t = common::engine().await;
    t.install(
        r#"
name: indicators
actions:
  - id: start
    type: manual
  - id: found
    type: extract_iocs
    options:
      text: "{{ start.report }}"
      allow: [example.com]
links: [start -> found]
"#,
    )
    .await;
    let report = "Beacon to hxxps://evil[.]example[.]net/gate.php from 185.220.101.4; \
                  see https://docs.example.com/x. Hash 44d88612fea8a8f36de82e1278abb02f, CVE-2021-44228.";
    let (run, events) = t.run("indicators", json!({ "report": report })).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let found = outputs_of(&events, "found")[0];
    assert_eq!(
        found["iocs"]["url"],
        json!(["https://evil.example.net/gate.php"])
    );
    assert_eq!(found["iocs"]["ipv4"], json!(["185.220.101.4"]));
    assert_eq!(
        found["iocs"]["md5"],
        json!(["44d88612fea8a8f36de82e1278abb02f"])
    );
    assert_eq!(found["iocs"]["cve"], json!(["CVE-2021-44228"]));
    let domains = found["iocs"]["domain"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(domains.contains(&json!("evil.example.net")), "{domains:?}");
    assert!(
        !domains.contains(&json!("docs.example.com")),
        "allow-listed: {domains:?}"
    );
}

#[tokio::test]
async fn parse_email_reports_a_spoofed_sender() {
    let t = common::engine().await;
    t.install(
        r#"
name: phish_triage
actions:
  - id: reported
    type: manual
  - id: email
    type: parse_email
    options: { raw: "{{ reported.raw }}" }
  - id: verdict
    type: exit
    options:
      output:
        subject: "{{ email.subject }}"
        urls: "{{ email.urls | length }}"
links: [reported -> email, email -> verdict]
"#,
    )
    .await;
    let raw = fixture("emails/01_paypal_display_name_spoof.eml");
    let (run, events) = t.run("phish_triage", json!({ "raw": raw })).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let report = outputs_of(&events, "email")[0];
    assert!(
        report["from"].is_object() || report["from"].is_array(),
        "{}",
        report["from"]
    );
    assert!(report["attachments"].is_array());
    let expected = muster_intel::email::parse(raw.as_bytes());
    assert_eq!(run.output.unwrap()["subject"], json!(expected.subject));
}

#[tokio::test]
async fn normalize_maps_a_suricata_alert_with_its_profile() {
    let t = common::engine().await;
    t.install(
        r#"
name: normalise_ids
actions:
  - id: alert
    type: webhook
    options: { path: ids }
  - id: normalized
    type: normalize
    options: { profile: suricata_eve_alert, input: "{{ alert.body }}" }
links: [alert -> normalized]
"#,
    )
    .await;
    let eve: Value =
        serde_json::from_str(&fixture("alerts/suricata_eve_alert/et_scan_ssh.json")).unwrap();
    let (run, events) = t.run("normalise_ids", eve.clone()).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let result = outputs_of(&events, "normalized")[0];
    assert_eq!(result["event"]["class_uid"], json!(2004));
    assert_eq!(
        result["event"]["evidences"][0]["src_endpoint"]["ip"],
        eve["src_ip"]
    );
    assert_eq!(
        result["findings"],
        json!([]),
        "the profile's output is valid OCSF"
    );
}

#[tokio::test]
async fn normalize_takes_an_inline_mapping_and_reports_a_bad_profile_at_load() {
    let t = common::engine().await;
    t.install(
        r#"
name: inline_mapping
actions:
  - id: start
    type: manual
  - id: normalized
    type: normalize
    options:
      mapping:
        fields:
          source_ip: [src_ip, sourceAddress, '["remote-ip-address"]']
links: [start -> normalized]
"#,
    )
    .await;
    let (run, events) = t
        .run(
            "inline_mapping",
            json!({"remote-ip-address": "198.51.100.4"}),
        )
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(
        outputs_of(&events, "normalized")[0]["event"]["source_ip"],
        "198.51.100.4"
    );

    let err = t
        .engine
        .install("bad.yaml", "name: bad\nactions:\n  - id: s\n    type: manual\n  - id: n\n    type: normalize\n    options: { profile: splunk_magic }\nlinks: [s -> n]\n")
        .await
        .err()
        .unwrap();
    match err {
        muster_engine::EngineError::Invalid(diagnostics) => {
            assert!(
                diagnostics[0]
                    .message
                    .contains("unknown profile `splunk_magic`"),
                "{}",
                diagnostics[0]
            );
            assert_eq!(diagnostics[0].line, 7);
        }
        other => panic!("expected diagnostics, got {other}"),
    }
}
