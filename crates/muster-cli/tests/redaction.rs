//! Secrets never leave in the clear: a real `muster serve` logging at `trace` runs a playbook that
//! sends two credentials (in a header, a query parameter and as basic auth) to a server that
//! echoes them back — in a success, in a 500 error (handled on the `error` port) and in a
//! response whose parse error fails the run. The far end gets the real values; the run's
//! events, errors and API answers, the metrics, the export, the logs and every byte of the
//! data directory hold `[redacted:NAME]` at most.
//!
//! Then the same data directory refuses to start with another key, or with none.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};
use support::{Muster, TOKEN};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const API_KEY: &str = "sk-live-7Hq2ZpX9vR4mK8wL";
const USERNAME: &str = "svc-muster";
const PASSWORD: &str = "pw-Jf83nQz71LxV";

fn basic_form() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{PASSWORD}"))
}

fn secrets() -> [String; 3] {
    [API_KEY.to_string(), PASSWORD.to_string(), basic_form()]
}

/// Answers with what it received: the headers and the query string; `/fail` with a 500.
struct Echo;

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: serde_json::Map<String, Value> = request
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    Value::String(value.to_str().unwrap_or_default().to_string()),
                )
            })
            .collect();
        let echoed = json!({
            "path": request.url.path(),
            "query": request.url.query(),
            "headers": headers,
        });
        if request.url.path() == "/text" {
            // Not JSON: the error names the URL (with the key) and quotes the body's start.
            let key = request.url.query().unwrap_or_default();
            return ResponseTemplate::new(200).set_body_string(format!("echo {key} end"));
        }
        if request.url.path() == "/fail" {
            let key = headers.get("x-api-key").cloned().unwrap_or_default();
            ResponseTemplate::new(500).set_body_json(json!({
                "error": format!("key {} is not allowed here", key.as_str().unwrap_or_default()),
                "echo": echoed,
            }))
        } else {
            ResponseTemplate::new(200).set_body_json(echoed)
        }
    }
}

fn playbook(mock: &str) -> String {
    format!(
        r#"
name: leak_check
actions:
  - id: hook
    type: webhook
    options: {{ path: leak-check, response: exit }}
  - id: echo
    type: http_request
    options:
      url: "{mock}/echo"
      query: {{ key: "{{{{ credentials.api_key }}}}" }}
      headers: {{ X-Api-Key: "{{{{ credentials.api_key }}}}" }}
      auth: credentials.jira
  - id: keep
    type: set
    options:
      marker: "{{{{ credentials.api_key }}}}"
      seen: "{{{{ echo.body.headers['x-api-key'] }}}}"
  - id: fail
    type: http_request
    options:
      url: "{mock}/fail"
      headers: {{ X-Api-Key: "{{{{ credentials.api_key }}}}" }}
      auth: credentials.jira
    retry: {{ attempts: 2, backoff: 100ms }}
  - id: handled
    type: set
    options:
      got: "{{{{ fail.details.body.error }}}}"
  - id: not_json
    type: http_request
    options:
      url: "{mock}/text"
      query: {{ key: "{{{{ credentials.api_key }}}}" }}
      response: json
links: [hook -> echo, echo -> keep, keep -> fail, fail.error -> handled, handled -> not_json]
"#
    )
}

fn cli(url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .args(["--server", url, "--token", TOKEN])
        .env("MUSTER_LOG", "warn")
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

fn assert_clean(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "{what} holds the secret {secret}: {text}"
        );
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn secrets_stay_out_of_the_database_logs_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let master_key = hex::encode(rand::random::<[u8; 32]>());
    let mut muster = Muster::start_with_env(
        &data,
        support::free_port(),
        &[
            ("MUSTER_MASTER_KEY", master_key.as_str()),
            ("MUSTER_LOG", "trace"),
        ],
    )
    .await;
    let url = muster.url.clone();
    let mock = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Echo)
        .mount(&mock)
        .await;

    let (code, _, stderr) = cli(
        &url,
        &[
            "credential",
            "set",
            "api_key",
            "--type",
            "text",
            "--value",
            "-",
            "--allowed-domain",
            "127.0.0.1",
        ],
        API_KEY,
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = cli(
        &url,
        &[
            "credential",
            "set",
            "jira",
            "--type",
            "basic",
            "--field",
            &format!("username={USERNAME}"),
            "--field",
            "password=-",
            "--allowed-domain",
            "127.0.0.1",
        ],
        PASSWORD,
    );
    assert_eq!(code, 0, "{stderr}");
    muster.import(&playbook(&mock.uri())).await;

    let answer = support::client()
        .post(format!("{url}/hooks/leak-check"))
        .json(&json!({"alert": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502, "the run fails at `fail`");
    let answer = answer.text().await.unwrap();
    assert_clean("the webhook's answer", &answer);
    let run_id = serde_json::from_str::<Value>(&answer).unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();

    // The far end got the real values.
    let requests = mock.received_requests().await.unwrap();
    let echo = requests
        .iter()
        .find(|r| r.url.path() == "/echo")
        .expect("the echo was called");
    assert_eq!(echo.headers["x-api-key"], API_KEY);
    assert_eq!(echo.url.query(), Some(format!("key={API_KEY}").as_str()));
    assert_eq!(
        echo.headers["authorization"],
        format!("Basic {}", basic_form()).as_str()
    );
    let failed: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/fail")
        .collect();
    assert!(failed.len() >= 2, "the failure was retried");
    assert_eq!(failed[0].headers["x-api-key"], API_KEY);

    // What the API shows of the run: redacted, with the names.
    let run = muster.get(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "failed");
    let run_text = run.to_string();
    assert_clean("the run", &run_text);
    let echo_event = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "echo")
        .expect("the echo event");
    assert_eq!(
        echo_event["output"]["body"]["headers"]["x-api-key"],
        "[redacted:api_key]"
    );
    assert_eq!(
        echo_event["output"]["body"]["query"],
        "key=[redacted:api_key]"
    );
    assert_eq!(
        echo_event["output"]["body"]["headers"]["authorization"],
        "Basic [redacted:jira]"
    );
    let keep = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "keep")
        .expect("the keep event");
    assert_eq!(keep["output"]["marker"], "[redacted:api_key]");
    assert_eq!(keep["output"]["seen"], "[redacted:api_key]");
    let event = |action: &str| {
        run["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no `{action}` event: {run}"))
            .clone()
    };
    let failure = event("fail");
    assert_eq!(failure["port"], "error");
    assert_eq!(
        failure["output"]["details"]["body"]["error"],
        "key [redacted:api_key] is not allowed here"
    );
    assert_eq!(
        failure["output"]["details"]["body"]["echo"]["headers"]["authorization"],
        "Basic [redacted:jira]"
    );
    assert_eq!(
        event("handled")["output"]["got"],
        "key [redacted:api_key] is not allowed here"
    );
    // The run's error quotes the URL and the body, both redacted.
    assert_eq!(run["error"]["action"], "not_json", "{run}");
    let message = run["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("/text?key=[redacted:api_key]`")
            && message.contains("it starts with `echo key=[redacted:api_key] end`"),
        "{message}"
    );
    assert!(
        run["reason"]
            .as_str()
            .unwrap()
            .contains("key=[redacted:api_key]"),
        "{run}"
    );
    for event in run["events"].as_array().unwrap() {
        let id = event["id"].as_str().unwrap();
        assert_clean(
            "an event",
            &muster
                .get(&format!("/api/v1/events/{id}"))
                .await
                .to_string(),
        );
    }
    assert_clean(
        "the run list",
        &muster.get("/api/v1/runs").await.to_string(),
    );
    assert_clean(
        "the credential list",
        &muster.get("/api/v1/credentials").await.to_string(),
    );
    let client = support::client();
    for path in ["/metrics", "/api/v1/playbooks/leak_check/export"] {
        let response = client
            .get(format!("{url}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_clean(path, &response.text().await.unwrap());
    }
    let (code, shown, _) = cli(&url, &["runs", "show", &run_id, "--json"], "");
    assert_eq!(code, 0);
    assert!(shown.contains("[redacted:api_key]"), "{shown}");
    assert_clean("`muster runs show`", &shown);

    // Every byte on disk, and everything the process wrote.
    muster.kill();
    let log = std::fs::read(data.with_extension("log")).unwrap();
    assert!(
        contains(&log, b"TRACE") && contains(&log, b"DEBUG"),
        "the log was not captured at trace level"
    );
    let mut paths = Vec::new();
    files(&data, &mut paths);
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "muster.db"), "{names:?}");
    let mut redacted_on_disk = false;
    for path in paths.iter().chain([&data.with_extension("log")]) {
        let bytes = std::fs::read(path).unwrap();
        redacted_on_disk |= contains(&bytes, b"[redacted:api_key]");
        for secret in secrets() {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{} holds the secret {secret}",
                path.display()
            );
        }
    }
    assert!(
        redacted_on_disk,
        "the scan did not see the recorded events: {names:?}"
    );

    // The same directory with another key, or with none: a clear stop, no new key.
    let other = hex::encode(rand::random::<[u8; 32]>());
    let (code, stderr) = support::serve_fails(&data, &[("MUSTER_MASTER_KEY", &other)]).await;
    assert_ne!(code, 0);
    assert!(
        stderr.contains("the master key does not match the one this data directory's credentials were sealed with"),
        "{stderr}"
    );
    let (code, stderr) = support::serve_fails(&data, &[]).await;
    assert_ne!(code, 0);
    assert!(
        stderr.contains(
            "master-key is missing, but this data directory was set up with a master key"
        ),
        "{stderr}"
    );
    assert!(!data.join("master-key").exists());
    let muster = Muster::start_with_env(
        &data,
        support::free_port(),
        &[("MUSTER_MASTER_KEY", master_key.as_str())],
    )
    .await;
    assert_eq!(muster.get("/api/v1/credentials").await["total"], 2);
}
