//! `muster intel …` as scripts use it: JSON shapes on stdout, errors on stderr, exit codes.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../muster-intel/tests");

fn muster(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn iocs_json_groups_refanged_values_by_type() {
    let text = "C2 hxxp://evil[.]example[.]net/x at 203.0.113.7, again 203.0.113.7; CVE-2024-3400";
    let (code, stdout, _) = muster(&["intel", "iocs", "--json", "-"], text);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["ipv4"], json!(["203.0.113.7"]));
    assert_eq!(doc["url"], json!(["http://evil.example.net/x"]));
    assert_eq!(doc["cve"], json!(["CVE-2024-3400"]));
    let (_, stdout, _) = muster(&["intel", "iocs", "--json", "--types", "cve"], text);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc, json!({"cve": ["CVE-2024-3400"]}));
}

#[test]
fn email_json_has_the_keys_scripts_rely_on() {
    let file = format!("{FIXTURES}/emails/12_double_extension_and_droppers.eml");
    let (code, stdout, _) = muster(&["intel", "email", &file, "--json"], "");
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    for key in ["from", "subject", "urls", "attachments"] {
        assert!(doc.get(key).is_some(), "missing {key}");
    }
    let attachment = &doc["attachments"][0];
    for key in ["filename", "content_type", "size", "sha256"] {
        assert!(attachment.get(key).is_some(), "attachment lacks {key}");
    }
}

#[test]
fn normalize_prints_one_event_per_line_and_names_bad_profiles() {
    let file = format!("{FIXTURES}/alerts/cef_generic/paloalto_threat_url_block.log");
    let (code, stdout, _) = muster(
        &["intel", "normalize", "--profile", "cef_generic", &file],
        "",
    );
    assert_eq!(code, 0);
    let first: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["class_uid"], 2004);
    let (code, _, stderr) = muster(&["intel", "normalize", "--profile", "nope", &file], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown profile `nope`"), "{stderr}");
}
