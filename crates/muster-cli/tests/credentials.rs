//! `muster credential …` and `muster resource …` against a real `muster serve` process, and
//! the master key at start-up: created once (mode 0600), never silently replaced.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{Muster, TOKEN};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const VT_KEY: &str = "vt-key-41d8cd98f00b";
const VT_KEY_ROTATED: &str = "vt-key-9e107d9d372b";
const JIRA_PASSWORD: &str = "jira-pw-e4d909c290d0";
const HEADER_KEY: &str = "abuse-key-d41d8cd98f";
const SECRETS: [&str; 4] = [VT_KEY, VT_KEY_ROTATED, JIRA_PASSWORD, HEADER_KEY];

/// `muster ARGS --server URL --token TOKEN`, with `stdin` piped in.
fn cli(url: &str, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .args(["--server", url, "--token", TOKEN])
        .env("MUSTER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for secret in SECRETS {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "`muster {}` printed a secret: {stdout} {stderr}",
            args.join(" ")
        );
    }
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

/// A mock API and the `lookup` playbook, which sends credential `vt` to it as `x-apikey`.
async fn lookup_playbook(muster: &Muster) -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/lookup"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&mock)
        .await;
    muster
        .import(&format!(
            "name: lookup\nactions:\n  - id: start\n    type: manual\n  - id: call\n    type: http_request\n    options:\n      url: \"{}/lookup\"\n      headers: {{ x-apikey: \"{{{{ credentials.vt }}}}\" }}\nlinks: [start -> call]\n",
            mock.uri()
        ))
        .await;
    mock
}

/// `muster credential set vt` with `VT_KEY` from standard input, allowed to loopback.
fn set_vt(url: &str) {
    let (code, _, stderr) = cli(
        url,
        &[
            "credential",
            "set",
            "vt",
            "--type",
            "text",
            "--value",
            "-",
            "--allowed-domain",
            "127.0.0.1",
        ],
        Some(VT_KEY),
    );
    assert_eq!(code, 0, "{stderr}");
}

/// Runs the `lookup` playbook and returns the `x-apikey` header the mock received.
async fn key_sent(muster: &Muster, mock: &MockServer) -> String {
    let response = support::client()
        .post(format!("{}/api/v1/playbooks/lookup/runs", muster.url))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let run: Value = response.json().await.unwrap();
    let id = run["run_id"].as_str().unwrap().to_string();
    muster
        .eventually(
            std::time::Duration::from_secs(10),
            "the run to end",
            || async { muster.get(&format!("/api/v1/runs/{id}")).await["status"] == "succeeded" },
        )
        .await;
    let requests = mock.received_requests().await.unwrap();
    let last = requests.last().expect("the mock was called");
    last.headers["x-apikey"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn credential_commands_read_values_from_stdin_files_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let muster = Muster::start(&dir.path().join("data")).await;
    let url = muster.url.clone();
    let mock = lookup_playbook(&muster).await;

    // From standard input, without the newline `echo` adds.
    let (code, stdout, stderr) = cli(
        &url,
        &[
            "credential",
            "set",
            "vt",
            "--type",
            "text",
            "--value",
            "-",
            "--allowed-domain",
            "127.0.0.1",
            "--description",
            "VirusTotal",
        ],
        Some(&format!("{VT_KEY}\n")),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "created credential vt (text; allowed domains: 127.0.0.1)\n"
    );
    assert_eq!(key_sent(&muster, &mock).await, VT_KEY);

    // Fields, one of them from standard input; a header credential's fields.
    let (code, stdout, stderr) = cli(
        &url,
        &[
            "credential",
            "set",
            "jira",
            "--type",
            "basic",
            "--field",
            "username=svc-muster",
            "--field",
            "password=-",
            "--allowed-domain",
            "*.atlassian.net",
            "--allowed-domain",
            "jira.example.com",
        ],
        Some(JIRA_PASSWORD),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "created credential jira (basic; allowed domains: *.atlassian.net, jira.example.com)\n"
    );
    let key_file = dir.path().join("abuse.key");
    std::fs::write(&key_file, format!("{HEADER_KEY}\r\n")).unwrap();
    let (code, _, stderr) = cli(
        &url,
        &[
            "credential",
            "set",
            "abuse",
            "--type",
            "header",
            "--field",
            "name=Key",
            "--value-file",
            key_file.to_str().unwrap(),
            "--allowed-domain",
            "api.abuseipdb.com",
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");

    let (code, stdout, _) = cli(&url, &["credential", "list", "--json"], None);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][0]["name"], "abuse");
    assert_eq!(list["items"][0]["type"], "header");
    assert_eq!(list["items"][2]["description"], "VirusTotal");
    let (_, table, _) = cli(&url, &["credential", "list"], None);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert!(
        lines[2].starts_with("jira") && lines[2].ends_with("*.atlassian.net, jira.example.com"),
        "{table}"
    );

    // Rotation from a file keeps the allowed domains; the run sends the new value.
    let rotated_file = dir.path().join("vt.key");
    std::fs::write(&rotated_file, VT_KEY_ROTATED).unwrap();
    let (code, stdout, stderr) = cli(
        &url,
        &[
            "credential",
            "rotate",
            "vt",
            "--value-file",
            rotated_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "rotated credential vt (text; allowed domains: 127.0.0.1)\n"
    );
    assert_eq!(key_sent(&muster, &mock).await, VT_KEY_ROTATED);

    // Failures: non-zero, said on stderr, never echoing the value.
    for (args, stdin, message) in [
        (
            vec![
                "credential",
                "set",
                "x",
                "--type",
                "text",
                "--allowed-domain",
                "a.example",
            ],
            None,
            "no value given",
        ),
        (
            vec![
                "credential",
                "set",
                "x",
                "--type",
                "ssh",
                "--value",
                "-",
                "--allowed-domain",
                "a.example",
            ],
            Some(VT_KEY),
            "unknown credential type `ssh`",
        ),
        (
            vec![
                "credential",
                "set",
                "x",
                "--type",
                "basic",
                "--value",
                "-",
                "--allowed-domain",
                "a.example",
            ],
            Some(JIRA_PASSWORD),
            "is a JSON object of its fields",
        ),
        (
            vec![
                "credential",
                "set",
                "x",
                "--type",
                "text",
                "--field",
                VT_KEY,
                "--allowed-domain",
                "a.example",
            ],
            None,
            "--field takes KEY=VALUE",
        ),
        (
            vec!["credential", "rotate", "nope", "--value", "-"],
            Some(VT_KEY),
            "credential `nope` not found",
        ),
        (
            vec!["credential", "delete", "nope"],
            None,
            "credential `nope` not found",
        ),
    ] {
        let (code, _, stderr) = cli(&url, &args, stdin);
        assert_ne!(code, 0, "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let (code, _, stderr) = cli(
        &url,
        &["credential", "set", "x", "--type", "text", "--value", "-"],
        Some(VT_KEY),
    );
    assert_eq!(code, 2, "clap refuses a missing --allowed-domain");
    assert!(stderr.contains("--allowed-domain"), "{stderr}");

    let (code, stdout, _) = cli(&url, &["credential", "delete", "abuse"], None);
    assert_eq!(code, 0);
    assert_eq!(stdout, "deleted credential abuse\n");
    let (_, stdout, _) = cli(&url, &["credential", "list", "--json"], None);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["total"], 2);
}

#[tokio::test]
async fn resource_commands_take_json_or_text() {
    let dir = tempfile::tempdir().unwrap();
    let muster = Muster::start(&dir.path().join("data")).await;
    let url = muster.url.clone();

    let (code, stdout, stderr) = cli(
        &url,
        &[
            "resource",
            "set",
            "blocklist",
            r#"["203.0.113.7", "198.51.100.9"]"#,
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "created resource blocklist\n");
    let (code, _, _) = cli(
        &url,
        &["resource", "set", "oncall", "soc@example.com"],
        None,
    );
    assert_eq!(code, 0);
    let (code, _, _) = cli(&url, &["resource", "set", "offset", "-5"], None);
    assert_eq!(code, 0);
    let file = dir.path().join("escalation.json");
    std::fs::write(&file, "{\"team\": \"soc\", \"levels\": [1, 2]}\n").unwrap();
    let (code, _, stderr) = cli(
        &url,
        &[
            "resource",
            "set",
            "escalation",
            &format!("@{}", file.display()),
            "--description",
            "who to page",
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = cli(
        &url,
        &["resource", "set", "note", "-"],
        Some("from stdin\n"),
    );
    assert_eq!(code, 0);
    assert_eq!(stdout, "created resource note\n");
    let (_, stdout, _) = cli(
        &url,
        &["resource", "set", "oncall", "\"ir@example.com\""],
        None,
    );
    assert_eq!(stdout, "replaced resource oncall\n");

    for (name, expected) in [
        ("blocklist", json!(["203.0.113.7", "198.51.100.9"])),
        ("oncall", json!("ir@example.com")),
        ("offset", json!(-5)),
        ("escalation", json!({"team": "soc", "levels": [1, 2]})),
        ("note", json!("from stdin")),
    ] {
        let (code, stdout, stderr) = cli(&url, &["resource", "get", name], None);
        assert_eq!(code, 0, "{stderr}");
        let value: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(value, expected, "{name}");
    }
    let (_, stdout, _) = cli(&url, &["resource", "get", "escalation", "--json"], None);
    let resource: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(resource["description"], "who to page");

    let (_, stdout, _) = cli(&url, &["resource", "list", "--json"], None);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list["total"], 5);
    let (_, table, _) = cli(&url, &["resource", "list"], None);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("escalation") && l.ends_with("who to page")),
        "{table}"
    );

    let (code, stdout, _) = cli(&url, &["resource", "delete", "oncall"], None);
    assert_eq!(code, 0);
    assert_eq!(stdout, "deleted resource oncall\n");
    let (code, _, stderr) = cli(&url, &["resource", "get", "oncall"], None);
    assert_eq!(code, 2);
    assert!(stderr.contains("resource `oncall` not found"), "{stderr}");
    let (code, _, stderr) = cli(&url, &["resource", "set", "bad name", "1"], None);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a valid resource name"), "{stderr}");
}

#[tokio::test]
async fn the_key_file_is_made_once_and_a_lost_key_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut muster = Muster::start(&data).await;
    let key_file = data.join("master-key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let log = muster.log();
    assert!(
        log.contains(&format!(
            "master key: generated into {}",
            key_file.display()
        )),
        "{log}"
    );
    assert!(
        !log.contains(key.trim()),
        "the start-up message shows the key"
    );
    set_vt(&muster.url);
    let port = muster.port;
    muster.kill();

    // The same key is read back.
    let mut muster = Muster::start_on(&data, port).await;
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
    assert!(
        muster
            .log()
            .contains(&format!("master key: from {}", key_file.display()))
    );
    muster.kill();

    // Without it, start-up stops rather than making a key that opens nothing.
    std::fs::rename(&key_file, dir.path().join("key.bak")).unwrap();
    let (code, stderr) = support::serve_fails(&data, &[]).await;
    assert_ne!(code, 0);
    assert!(
        stderr.contains(&format!(
            "the master key file {} is missing, but this data directory was set up with a master key",
            key_file.display()
        )),
        "{stderr}"
    );
    assert!(!key_file.exists(), "a new key file was made");

    // A key file elsewhere, named in the configuration.
    let moved = dir.path().join("key.bak");
    let moved_text = moved.to_str().unwrap();
    let muster = Muster::start_with_env(
        &data,
        port,
        &[("MUSTER_CREDENTIALS_MASTER_KEY_FILE", moved_text)],
    )
    .await;
    assert!(
        muster
            .log()
            .contains(&format!("master key: from {moved_text}"))
    );
    let list = muster.get("/api/v1/credentials").await;
    assert_eq!(list["items"][0]["name"], "vt");
}

#[tokio::test]
async fn the_master_key_rotates_and_an_interrupted_rotation_is_finished_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut muster = Muster::start(&data).await;
    let port = muster.port;
    let mock = lookup_playbook(&muster).await;
    set_vt(&muster.url);
    let key_file = data.join("master-key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();

    // While the server runs, the data directory is locked.
    let rotate = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(["master-key", "rotate", "--data-dir", data.to_str().unwrap()])
            .args(extra)
            .env("MUSTER_LOG", "warn")
            .env_remove("MUSTER_MASTER_KEY")
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, _, stderr) = rotate(&[]);
    assert_ne!(code, 0, "rotated under a running server");
    assert!(stderr.contains("still running"), "{stderr}");
    muster.kill();

    let (code, stdout, stderr) = rotate(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("re-sealed 1 credential(s) under a new master key"),
        "{stdout}"
    );
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(new_key, old_key);
    assert!(!data.join("master-key.new").exists());
    let mut muster = Muster::start_on(&data, port).await;
    assert_eq!(key_sent(&muster, &mock).await, VT_KEY);
    muster.kill();

    // A rotation that stopped after re-sealing: the new key waits in `master-key.new` and the
    // old one is still in place. The start keeps the key the store was sealed with.
    std::fs::write(data.join("master-key.new"), &new_key).unwrap();
    std::fs::write(&key_file, &old_key).unwrap();
    let mut muster = Muster::start_on(&data, port).await;
    assert!(
        muster
            .log()
            .contains("finished an interrupted master key rotation"),
        "{}",
        muster.log()
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);
    assert_eq!(key_sent(&muster, &mock).await, VT_KEY);
    muster.kill();

    // One that stopped before: the pending key is dropped.
    std::fs::write(data.join("master-key.new"), &old_key).unwrap();
    let muster = Muster::start_on(&data, port).await;
    assert!(!data.join("master-key.new").exists());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), new_key);
    assert_eq!(key_sent(&muster, &mock).await, VT_KEY);
}
