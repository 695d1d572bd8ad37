//! `muster integrations list|describe` and the operator's integrations directory as users and
//! scripts meet them: the built-in vendors, their credentials and inputs, an integration added
//! from `<data-dir>/integrations` that `validate`, `actions describe` and `run` all see, and a
//! broken file reported with its place.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn muster(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .env("MUSTER_LOG", "warn")
        .env_remove("MUSTER_DATA_DIR")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A data directory with no operator integrations.
fn empty_data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn list_shows_every_vendor_with_its_actions_and_credential_type() {
    let data = empty_data_dir();
    let dir = data.path().to_str().unwrap();
    let (code, stdout, stderr) = muster(&["integrations", "list", "--data-dir", dir]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("VENDOR") && lines[0].ends_with("CREDENTIAL"),
        "{stdout}"
    );
    let line = |vendor: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{vendor} ")))
            .unwrap_or_else(|| panic!("no {vendor} in\n{stdout}"))
            .to_string()
    };
    assert!(
        line("virustotal").contains("ip_report")
            && line("virustotal").ends_with("text (virustotal)")
    );
    assert!(line("jira").ends_with("basic (jira)"));
    assert!(line("cisa_kev").ends_with("none"));
    assert_eq!(lines.len(), 14, "{stdout}");

    let (code, stdout, _) = muster(&["integrations", "list", "--json", "--data-dir", dir]);
    assert_eq!(code, 0);
    let list: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let vendors: Vec<&str> = list.iter().map(|i| i["vendor"].as_str().unwrap()).collect();
    assert_eq!(
        vendors,
        [
            "abuseipdb",
            "cisa_kev",
            "firewall",
            "greynoise",
            "jira",
            "nvd",
            "openphish",
            "pagerduty",
            "slack",
            "teams",
            "urlscan",
            "virustotal",
            "vulncheck"
        ]
    );
    let slack = &list[8];
    assert_eq!(
        slack["actions"],
        serde_json::json!(["slack.incoming_webhook", "slack.post_message"])
    );
    assert_eq!(slack["credential"]["type"], "text");
    assert_eq!(
        slack["credential"]["allowed_domains"],
        serde_json::json!(["slack.com"])
    );
    assert_eq!(slack["file"], "integrations/slack.yaml");
}

#[test]
fn describe_a_vendor_says_which_credential_to_create() {
    let data = empty_data_dir();
    let dir = data.path().to_str().unwrap();
    let (code, stdout, stderr) =
        muster(&["integrations", "describe", "abuseipdb", "--data-dir", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Base URL:    https://api.abuseipdb.com/api/v2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("allowed domains: api.abuseipdb.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Rate limit:  1000/1d per credential"),
        "{stdout}"
    );
    assert!(
        stdout.contains("create it: muster credential set abuseipdb --type text --value - --allowed-domain api.abuseipdb.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("abuseipdb.report_ip  Report an IP address for abuse."),
        "{stdout}"
    );
}

#[test]
fn describe_an_action_gives_inputs_credential_rate_limit_and_example() {
    let data = empty_data_dir();
    let dir = data.path().to_str().unwrap();
    let (code, stdout, stderr) = muster(&[
        "integrations",
        "describe",
        "virustotal.ip_report",
        "--json",
        "--data-dir",
        dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["type"], "virustotal.ip_report");
    assert_eq!(
        doc["request"],
        "GET https://www.virustotal.com/api/v3/ip_addresses/{{ inputs.ip }}"
    );
    assert_eq!(doc["inputs"]["ip"]["type"], "string");
    assert_eq!(doc["inputs"]["ip"]["required"], true);
    assert_eq!(doc["credential"]["name"], "virustotal");
    assert_eq!(
        doc["credential"]["allowed_domains"],
        serde_json::json!(["www.virustotal.com"])
    );
    assert_eq!(doc["rate_limit"], "4/1m");
    assert_eq!(doc["side_effects"], false);
    assert!(
        doc["example"]
            .as_str()
            .unwrap()
            .starts_with("- id: ip_report\n  type: virustotal.ip_report\n")
    );
    assert!(
        doc["output"]
            .as_array()
            .unwrap()
            .contains(&Value::from("malicious"))
    );

    let (code, stdout, _) = muster(&[
        "integrations",
        "describe",
        "urlscan.result",
        "--data-dir",
        dir,
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Status 404:  transient (the scan is not finished yet (HTTP 404))"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  uuid  string, required: The scan's id, from `urlscan.submit`."),
        "{stdout}"
    );

    let (code, stdout, stderr) = muster(&[
        "actions",
        "describe",
        "pagerduty.trigger",
        "--json",
        "--data-dir",
        dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let spec: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(spec["side_effects"], true);
    assert_eq!(
        spec["options"]["properties"]["severity"]["enum"],
        serde_json::json!(["critical", "error", "warning", "info"])
    );
}

#[test]
fn unknown_names_are_errors_that_list_what_exists() {
    let data = empty_data_dir();
    let dir = data.path().to_str().unwrap();
    let (code, _, stderr) = muster(&["integrations", "describe", "virustotl", "--data-dir", dir]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown integration `virustotl`") && stderr.contains("virustotal"),
        "{stderr}"
    );
    let (code, _, stderr) = muster(&["integrations", "describe", "slack.post", "--data-dir", dir]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`slack` has no action `post`") && stderr.contains("slack.post_message"),
        "{stderr}"
    );
}

const ACME: &str = r#"vendor: acme
title: Acme Threat Intel
summary: Acme's on-premises reputation service.
actions:
  reputation:
    summary: The reputation of an address.
    inputs:
      ip:
        type: string
        description: The address.
        example: "{{ start.ip }}"
    request:
      path: /api/reputation
      query:
        ip: "{{ inputs.ip }}"
    output:
      score: "{{ response.body.score }}"
"#;

fn data_dir_with_acme() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(data.path().join("integrations")).unwrap();
    std::fs::write(data.path().join("integrations/acme.yaml"), ACME).unwrap();
    data
}

fn playbook(dir: &Path, base_url: &str) -> String {
    let file = dir.join("lookup.yaml");
    std::fs::write(
        &file,
        format!(
            "name: acme_lookup\nactions:\n  - id: start\n    type: manual\n  - id: rep\n    type: acme.reputation\n    options:\n      ip: \"{{{{ start.ip }}}}\"\n      base_url: \"{base_url}\"\nlinks: [start -> rep]\n"
        ),
    )
    .unwrap();
    file.display().to_string()
}

#[test]
fn the_operators_integrations_directory_is_seen_by_every_command() {
    let data = data_dir_with_acme();
    let dir = data.path().to_str().unwrap();
    let (code, stdout, stderr) = muster(&["integrations", "list", "--data-dir", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("acme ") && l.contains("reputation") && l.ends_with("none")),
        "{stdout}"
    );
    let (code, stdout, _) = muster(&["actions", "describe", "acme.reputation", "--data-dir", dir]);
    assert_eq!(code, 0);
    assert!(stdout.contains("set the option `base_url`"), "{stdout}");

    let work = tempfile::tempdir().unwrap();
    let file = playbook(work.path(), "https://acme.corp.example");
    let (code, stdout, stderr) = muster(&["validate", &file, "--data-dir", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok (acme_lookup, 2 actions)"), "{stdout}");
    let elsewhere = empty_data_dir();
    let (code, _, stderr) = muster(&[
        "validate",
        &file,
        "--data-dir",
        elsewhere.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("unknown action type `acme.reputation`"),
        "{stderr}"
    );

    // `[engine] integrations_dir` points anywhere.
    let config = work.path().join("muster.toml");
    std::fs::write(
        &config,
        format!(
            "[engine]\nintegrations_dir = \"{}\"\n",
            data.path().join("integrations").display()
        ),
    )
    .unwrap();
    let (code, _, stderr) = muster(&[
        "validate",
        &file,
        "--data-dir",
        elsewhere.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_broken_integration_file_stops_the_command_with_its_place() {
    let data = data_dir_with_acme();
    std::fs::write(
        data.path().join("integrations/acme.yaml"),
        ACME.replace("      path: /api/reputation", "      path: api/reputation"),
    )
    .unwrap();
    let dir = data.path().to_str().unwrap();
    let (code, _, stderr) = muster(&["integrations", "list", "--data-dir", dir]);
    assert_eq!(code, 2);
    let file = data.path().join("integrations/acme.yaml");
    assert!(
        stderr.contains(&format!(
            "{}:13:13: the path must start with `/`",
            file.display()
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn run_uses_an_operators_integration() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/reputation"))
        .and(query_param("ip", "203.0.113.7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"score": 91})))
        .expect(1)
        .mount(&server)
        .await;
    let data = data_dir_with_acme();
    let work = tempfile::tempdir().unwrap();
    let file = playbook(work.path(), &server.uri());
    let config = work.path().join("run.toml");
    std::fs::write(&config, "[http]\nallow = [\"127.0.0.1/32\"]\n").unwrap();
    let args = [
        "run".to_string(),
        file,
        "--event".into(),
        r#"{"ip": "203.0.113.7"}"#.into(),
        "--json".into(),
        "--config".into(),
        config.display().to_string(),
        "--data-dir".into(),
        data.path().display().to_string(),
    ];
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        muster(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["run"]["status"], "succeeded", "{stdout}");
    let rep = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rep")
        .unwrap();
    assert_eq!(rep["output"], serde_json::json!({"score": 91}));
}
