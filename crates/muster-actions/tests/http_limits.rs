//! Limits of the outbound client, end to end: declared and streamed bodies over the size cap,
//! decompression bombs, bodies that are not JSON, and rate limits that park the task instead
//! of failing it.

mod common;

use std::io::Write;
use std::time::Duration;

use muster_actions::http::HttpSettings;
use muster_store::{RunRecord, RunStatus};
use muster_testkit::{TestEngine, outputs_of};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CAP: usize = 1024 * 1024;

fn playbook(url: &str, options: &str) -> String {
    format!(
        r#"
name: call
actions:
  - id: start
    type: manual
  - id: call
    type: http_request
    options:
      url: "{url}"
{options}
    retry: {{ attempts: 1 }}
links: [start -> call]
"#
    )
}

async fn capped_engine() -> TestEngine {
    common::engine_with(HttpSettings {
        max_response_bytes: CAP,
        ..common::loopback_http()
    })
    .await
}

async fn call(t: &TestEngine, url: &str, options: &str) -> RunRecord {
    t.install(&playbook(url, options)).await;
    t.run("call", json!({})).await.0
}

fn failure(run: &RunRecord) -> (String, String) {
    assert_eq!(run.status, RunStatus::Failed, "{:?}", run.reason);
    let error = run.error.clone().expect("a failed run has an error");
    (
        error["class"].as_str().unwrap_or_default().to_string(),
        run.reason.clone().unwrap_or_default(),
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_declared_10_gb_response_is_refused_before_reading_it() {
    let url = common::raw_server(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                    Content-Length: 10737418240\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
        let _ = socket.write_all(&[0u8; 64 * 1024]).await;
    })
    .await;
    let t = capped_engine().await;
    let (class, reason) = failure(&call(&t, &url, "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("declares 10737418240 bytes"), "{reason}");
    assert!(
        reason.contains(&format!("limit of {CAP} bytes")),
        "{reason}"
    );
    assert!(reason.contains("max_response_bytes"), "{reason}");
}

#[tokio::test]
async fn a_chunked_stream_is_cut_off_at_the_cap() {
    let url = common::raw_server(|mut socket| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        // Up to 64 MiB, far past the cap; the client hangs up long before.
        for _ in 0..1024 {
            let frame = format!("{:x}\r\n", chunk.len());
            if socket.write_all(frame.as_bytes()).await.is_err()
                || socket.write_all(&chunk).await.is_err()
                || socket.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let t = capped_engine().await;
    let (class, reason) = failure(&call(&t, &url, "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("is larger"), "{reason}");
    assert!(
        reason.contains(&format!("limit of {CAP} bytes")),
        "{reason}"
    );
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_cap_on_decoded_bytes() {
    // 64 MiB of zeros compress to about 64 KiB: small on the wire, huge once decoded.
    let bomb = gzip(&vec![0u8; 64 * 1024 * 1024]);
    assert!(bomb.len() < CAP);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "application/json")
                .set_body_bytes(bomb),
        )
        .mount(&server)
        .await;
    let t = capped_engine().await;
    let (class, reason) = failure(&call(&t, &server.uri(), "").await);
    assert_eq!(class, "permanent");
    assert!(
        reason.contains(&format!("limit of {CAP} bytes")),
        "{reason}"
    );
}

#[tokio::test]
async fn compressed_responses_are_decoded() {
    let body = json!({"verdict": "malicious", "padding": "x".repeat(10_000)});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "application/json")
                .set_body_bytes(gzip(body.to_string().as_bytes())),
        )
        .mount(&server)
        .await;
    let t = capped_engine().await;
    t.install(&playbook(&server.uri(), "")).await;
    let (run, events) = t.run("call", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(outputs_of(&events, "call")[0]["body"], body);
    let requests = server.received_requests().await.unwrap();
    let accepted = requests[0].headers["accept-encoding"].to_str().unwrap();
    assert!(accepted.contains("gzip"), "{accepted}");
}

#[tokio::test]
async fn a_body_that_is_not_json_when_json_was_asked_for_is_a_permanent_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Login required</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    let t = common::engine().await;
    let (class, reason) = failure(&call(&t, &server.uri(), "      response: json").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("is not JSON"), "{reason}");
    assert!(reason.contains("text/html"), "{reason}");
    assert!(reason.contains("<html><body>Login required"), "{reason}");
}

#[tokio::test]
async fn an_error_page_that_is_not_json_keeps_the_class_of_its_status() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_raw("<html><body>Service Unavailable</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    let t = common::engine().await;
    let run = call(&t, &server.uri(), "      response: json").await;
    let (class, reason) = failure(&run);
    assert_eq!(class, "transient");
    assert_eq!(reason, "action `call` failed: HTTP 503 Service Unavailable");
}

#[tokio::test]
async fn a_request_over_its_rate_limit_parks_instead_of_failing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(&server.uri(), "      rate_limit: 1/1h"))
        .await;
    let (first, _) = t.run("call", json!({})).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reason);
    let second = t.start_run("call", json!({})).await;
    let waiting = common::wait_for_status(&t, second, RunStatus::Waiting).await;
    let reason = waiting.reason.unwrap();
    assert!(
        reason.starts_with("rate limited by host 127.0.0.1 (1/1h), waiting until "),
        "{reason}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_rate_limited_request_goes_out_when_its_budget_allows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(
        &server.uri(),
        "      rate_limit: 1/3s\n      rate_limit_key: intel-vendor",
    ))
    .await;
    let (first, _) = t.run("call", json!({})).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.reason);
    let second = t.start_run("call", json!({})).await;
    let waiting = common::wait_for_status(&t, second, RunStatus::Waiting).await;
    assert!(
        waiting
            .reason
            .unwrap()
            .starts_with("rate limited by intel-vendor (1/3s)")
    );
    let (record, events) = t.finish(second, Duration::from_secs(15)).await;
    assert_eq!(record.status, RunStatus::Succeeded, "{:?}", record.reason);
    assert_eq!(outputs_of(&events, "call")[0]["body"], json!({"ok": true}));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn pagination_paused_by_a_rate_limit_resumes_where_it_stopped() {
    let server = MockServer::start().await;
    for page in 1..=3 {
        let items: Vec<i64> = ((page - 1) * 2..page * 2).collect();
        Mock::given(method("GET"))
            .and(wiremock::matchers::query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": items })))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(wiremock::matchers::query_param("page", "4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [] })))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    // Two requests at once, then one every 1.5 s: the third page has to wait.
    t.install(&playbook(
        &format!("{}/items", server.uri()),
        "      rate_limit: 2/3s\n      paginate: { type: page, items: data }",
    ))
    .await;
    let run = t.start_run("call", json!({})).await;
    let waiting = common::wait_for_status(&t, run, RunStatus::Waiting).await;
    assert!(waiting.reason.unwrap().starts_with("rate limited by host"));
    let (record, events) = t.finish(run, Duration::from_secs(15)).await;
    assert_eq!(record.status, RunStatus::Succeeded, "{:?}", record.reason);
    let output = outputs_of(&events, "call")[0];
    assert_eq!(output["items"], json!([0, 1, 2, 3, 4, 5]));
    assert_eq!(output["pages"], 4);
    assert_eq!(output["truncated"], false);
    // Each page was fetched once: the pages before the pause were not fetched again.
    server.verify().await;
}

#[tokio::test]
async fn the_timeout_option_bounds_the_whole_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let t = common::engine().await;
    let (class, reason) = failure(&call(&t, &server.uri(), "      timeout: 300ms").await);
    assert_eq!(class, "transient");
    assert!(reason.contains("timed out after 300ms"), "{reason}");
    assert!(reason.contains("127.0.0.1"), "{reason}");
}

#[tokio::test]
async fn a_head_request_may_announce_a_large_body() {
    let url = common::raw_server(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\n\
                    Content-Length: 10737418240\r\n\r\n";
        let _ = socket.write_all(head.as_bytes()).await;
    })
    .await;
    let t = capped_engine().await;
    t.install(&playbook(&url, "      method: HEAD")).await;
    let (run, events) = t.run("call", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let output = outputs_of(&events, "call")[0];
    assert_eq!(output["headers"]["content-length"], "10737418240");
}
