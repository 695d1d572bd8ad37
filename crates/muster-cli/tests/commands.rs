//! The `muster` commands as users and scripts run them: `run`, `validate`, and the management
//! commands against a real server process.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Muster, TOKEN};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn muster(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .env("MUSTER_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn run_json_prints_the_run_and_its_event_tree() {
    let playbook = format!("{EXAMPLES}/brute_force_block.yaml");
    let event = format!("@{EXAMPLES}/vpn_alert.json");
    let (code, stdout, stderr) = muster(&["run", &playbook, "--event", &event, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["run"]["status"], "succeeded");
    assert!(doc["run"]["id"].is_string() && doc["run"].get("reason").is_some());
    let events = doc["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "alert",
            "normalize",
            "enough_failures",
            "once_a_day",
            "block"
        ]
    );
    for event in events {
        for key in ["id", "parent", "action", "port", "output"] {
            assert!(event.get(key).is_some(), "event lacks {key}");
        }
    }
    assert!(events[0]["parent"].is_null());
    assert_eq!(events[1]["parent"], events[0]["id"]);
    assert_eq!(events[2]["port"], "true");
}

#[test]
fn run_reports_a_failed_run_with_exit_code_1_and_bad_events_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("fails.yaml");
    std::fs::write(
        &playbook,
        "name: fails\nactions:\n  - id: start\n    type: manual\n  - id: boom\n    type: set\n    options: { x: \"{{ start.missing }}\" }\nlinks: [start -> boom]\n",
    )
    .unwrap();
    let path = playbook.to_str().unwrap();
    let (code, stdout, _) = muster(&["run", path]);
    assert_eq!(code, 1);
    assert!(stdout.contains("failed: action `boom` failed"), "{stdout}");
    let (code, _, stderr) = muster(&["run", path, "--event", "{not json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the event is not valid JSON"), "{stderr}");
}

#[test]
fn validate_lists_every_problem_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\nactions:\n  - id: start\n    type: manual\n  - id: lookup\n    type: http_reqest\nlinks: [start -> nowhere]\n",
    )
    .unwrap();
    let good = format!("{EXAMPLES}/brute_force_block.yaml");
    let (code, stdout, stderr) = muster(&["validate", &good, bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stdout.contains("brute_force_block.yaml: ok"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("bad.yaml:")).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":6:11: ") && l.contains("http_reqest")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(":7:") && l.contains("nowhere")),
        "{stderr}"
    );
    let (code, stdout, _) = muster(&["validate", "--json", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc[0]["valid"], false);
    assert!(doc[0]["diagnostics"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn management_commands_drive_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Muster::start(&dir.path().join("data")).await;
    let url = server.url.clone();
    let cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--server", &url, "--token", TOKEN]);
        muster(&all)
    };
    let playbook = format!("{EXAMPLES}/brute_force_block.yaml");
    let (code, stdout, stderr) = cli(&["playbook", "import", &playbook]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("brute_force_block version 1 (stored)"),
        "{stdout}"
    );
    let (_, stdout, _) = cli(&["playbook", "import", &playbook]);
    assert!(stdout.contains("(unchanged)"), "{stdout}");

    let (_, stdout, _) = cli(&["playbook", "list", "--json"]);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["total"], 1);
    let (_, exported, _) = cli(&["playbook", "export", "brute_force_block"]);
    assert!(
        exported.starts_with("name: brute_force_block\n"),
        "{exported}"
    );

    let response = support::client()
        .post(format!("{url}/hooks/vpn-bruteforce"))
        .header("X-Muster-Secret", "change-me")
        .body(std::fs::read_to_string(format!("{EXAMPLES}/vpn_alert.json")).unwrap())
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let (_, stdout, _) = cli(&["runs", "list", "--json", "--playbook", "brute_force_block"]);
    let runs: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(runs["total"], 1);
    let id = runs["items"][0]["id"].as_str().unwrap().to_string();
    let (code, stdout, _) = cli(&["runs", "show", &id]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("└─ alert") && stdout.contains("block"),
        "{stdout}"
    );

    let (code, _, _) = cli(&["playbook", "disable", "brute_force_block"]);
    assert_eq!(code, 0);
    let (code, _, _) = cli(&["playbook", "delete", "brute_force_block"]);
    assert_eq!(code, 0);
    let (code, _, stderr) = cli(&["playbook", "export", "brute_force_block"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("404"), "{stderr}");
    let (code, _, stderr) = muster(&["playbook", "list", "--server", &url, "--token", "wrong"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("401"), "{stderr}");
}
