//! `http_request` against real HTTP servers on loopback: output shape, error classes,
//! retries, the error port, timeouts and idempotency keys.

mod common;

use muster_store::RunStatus;
use muster_testkit::outputs_of;
use serde_json::json;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn playbook(url: &str, extra: &str) -> String {
    format!(
        r#"
name: lookup
actions:
  - id: start
    type: manual
  - id: reputation
    type: http_request
    options:
      url: "{url}/api/v2/check"
      query: {{ ipAddress: "{{{{ start.ip }}}}" }}
      headers: {{ Key: abc123 }}
{extra}
  - id: done
    type: exit
    options: {{ output: {{ score: "{{{{ reputation.body.abuseConfidenceScore }}}}", status: "{{{{ reputation.status }}}}" }} }}
links: [start -> reputation, reputation -> done]
"#
    )
}

#[tokio::test]
async fn a_json_response_becomes_status_headers_and_parsed_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/check"))
        .and(query_param("ipAddress", "203.0.113.7"))
        .and(header("Key", "abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"abuseConfidenceScore": 87})))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(&server.uri(), "")).await;
    let (run, events) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(run.output, Some(json!({"score": 87, "status": 200})));
    let response = outputs_of(&events, "reputation")[0];
    assert_eq!(response["headers"]["content-type"], "application/json");
}

#[tokio::test]
async fn a_4xx_fails_the_run_without_retrying() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_string("forbidden"))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(
        &server.uri(),
        "    retry: { attempts: 3, backoff: 10ms }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.reason.as_deref(),
        Some("action `reputation` failed: HTTP 403 Forbidden")
    );
    assert_eq!(run.error.unwrap()["class"], "permanent");
}

#[tokio::test]
async fn transient_failures_and_429s_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"abuseConfidenceScore": 5})))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(
        &server.uri(),
        "    retry: { attempts: 3, backoff: 10ms, jitter: false }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(run.output, Some(json!({"score": 5, "status": 200})));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn exhausted_retries_go_to_the_error_port_when_it_is_linked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let t = common::engine().await;
    let yaml = playbook(&server.uri(), "    retry: { attempts: 2, backoff: 10ms }").replace(
        "links: [start -> reputation, reputation -> done]",
        "  - id: fallback\n    type: exit\n    options: { output: { error: \"{{ reputation.message }}\", status: \"{{ reputation.details.status }}\" } }\nlinks: [start -> reputation, reputation -> done, reputation.error -> fallback]",
    );
    t.install(&yaml).await;
    let (run, events) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(
        run.output,
        Some(json!({"error": "HTTP 500 Internal Server Error", "status": 500}))
    );
    let error = events.iter().find(|e| e.action == "reputation").unwrap();
    assert_eq!(error.port, "error");
    assert_eq!(error.output["attempt"], 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_slow_server_times_out_as_a_transient_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(
        &server.uri(),
        "    timeout: 200ms\n    retry: { attempts: 1 }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.reason.unwrap().contains("timed out after 200ms"));
    assert_eq!(run.error.unwrap()["class"], "transient");
}

#[tokio::test]
async fn a_closed_port_is_a_transient_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let t = common::engine().await;
    t.install(&playbook(&url, "    retry: { attempts: 1 }"))
        .await;
    let (run, _) = t.run("lookup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.reason.unwrap().contains("could not connect"));
}

#[tokio::test]
async fn writes_carry_the_task_id_as_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/block"))
        .and(header_exists("idempotency-key"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&format!(
        r#"
name: block
actions:
  - id: start
    type: manual
  - id: block
    type: http_request
    options:
      method: POST
      url: "{}/block"
      json: {{ ip: "{{{{ start.ip }}}}", ttl: 86400 }}
links: [start -> block]
"#,
        server.uri()
    ))
    .await;
    let (run, events) = t.run("block", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let requests = server.received_requests().await.unwrap();
    let key = requests[0]
        .headers
        .get("idempotency-key")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let block = events.iter().find(|e| e.action == "block").unwrap();
    assert_eq!(Some(key), block.task_id.map(|t| t.to_string()));
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, json!({"ip": "203.0.113.7", "ttl": 86400}));
}

fn write_playbook(url: &str, method: &str, extra: &str) -> String {
    format!(
        r#"
name: write
actions:
  - id: start
    type: manual
  - id: write
    type: http_request
    options:
      method: {method}
      url: "{url}/tickets"
      json: {{ alert: "{{{{ start.alert }}}}" }}
{extra}
    retry: {{ attempts: 3, backoff: 10ms, jitter: false }}
links: [start -> write]
"#
    )
}

fn keys(requests: &[wiremock::Request]) -> Vec<Option<String>> {
    requests
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_retried_write_sends_the_same_idempotency_key_each_time() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&write_playbook(&server.uri(), "PUT", "")).await;
    let (run, events) = t.run("write", json!({"alert": "A-1"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let task = events
        .iter()
        .find(|e| e.action == "write")
        .and_then(|e| e.task_id)
        .unwrap()
        .to_string();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(keys(&requests), vec![Some(task); 3]);
}

#[tokio::test]
async fn idempotency_keys_can_be_chosen_or_turned_off_and_reads_send_none() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = common::engine().await;
    let cases = [
        (
            "POST",
            "      idempotency_key: \"ticket-{{ start.alert }}\"",
            Some("ticket-A-1"),
        ),
        ("POST", "      idempotency_key: \"\"", None),
        (
            "POST",
            "      headers: { Idempotency-Key: mine }",
            Some("mine"),
        ),
        ("GET", "", None),
        ("GET", "      idempotency_key: read-1", Some("read-1")),
    ];
    for (verb, extra, expected) in cases {
        server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let yaml = write_playbook(&server.uri(), verb, extra);
        let yaml = if verb == "GET" {
            yaml.replace("      json: { alert: \"{{ start.alert }}\" }\n", "")
        } else {
            yaml
        };
        t.install(&yaml).await;
        let (run, _) = t.run("write", json!({"alert": "A-1"})).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            keys(&requests),
            vec![expected.map(str::to_string)],
            "{verb} {extra}"
        );
    }
}

#[tokio::test]
async fn a_failed_eager_get_counts_as_the_first_attempt() {
    // A caller that waits for the result runs GETs before the run's first write; when that
    // attempt fails, the retry is attempt 2 after its back-off, not a fresh attempt 1.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(
        &server.uri(),
        "    retry: { attempts: 2, backoff: 10ms }",
    ))
    .await;
    let request = muster_engine::TriggerRequest {
        playbook: "lookup".into(),
        trigger: None,
        output: json!({"ip": "203.0.113.7"}),
        once_key: None,
        even_if_disabled: false,
    };
    let (run, _) = t
        .engine
        .trigger_and_wait(request, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let (record, _) = t.finish(run, std::time::Duration::from_secs(10)).await;
    assert_eq!(record.status, RunStatus::Failed);
    assert!(
        record.error.unwrap().to_string().contains("\"attempt\":2"),
        "the last attempt is the second"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_permanent_eager_failure_is_resolved_without_a_second_request() {
    let server = MockServer::start().await;
    let t = common::engine().await;
    let with_error_port = format!(
        r#"
name: lookup
actions:
  - id: start
    type: manual
  - id: reputation
    type: http_request
    options: {{ url: "{}/api/v2/check" }}
  - id: not_found
    type: exit
    options: {{ output: {{ missing: "{{{{ reputation.details.status }}}}" }} }}
links: [start -> reputation, reputation.error -> not_found]
"#,
        server.uri()
    );
    for (yaml, expected) in [
        (playbook(&server.uri(), ""), RunStatus::Failed),
        (with_error_port, RunStatus::Succeeded),
    ] {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "no such ip"})))
            .mount(&server)
            .await;
        t.install(&yaml).await;
        let request = muster_engine::TriggerRequest {
            playbook: "lookup".into(),
            trigger: None,
            output: json!({"ip": "203.0.113.7"}),
            once_key: None,
            even_if_disabled: false,
        };
        let (run, _) = t
            .engine
            .trigger_and_wait(request, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let (record, _) = t.finish(run, std::time::Duration::from_secs(10)).await;
        assert_eq!(record.status, expected, "{:?}", record.error);
        if expected == RunStatus::Succeeded {
            assert_eq!(record.output, Some(json!({"missing": 404})));
        } else {
            let error = record.error.unwrap().to_string();
            assert!(error.contains("404"), "{error}");
        }
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}
