//! urlscan.io API v1: `API-Key` header, `POST /api/v1/scan/` with a JSON body,
//! `/api/v1/result/{uuid}/` answering 404 until the scan is finished, 429 with
//! `X-Rate-Limit-*` headers.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const KEY: &str = "0f3c6e1a-urlscan-k3y";
const UUID: &str = "0e2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "urlscan", json!({"type": "text", "value": KEY})).await;
    t
}

#[tokio::test]
async fn submit_posts_a_private_scan_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/scan/"))
        .and(header("API-Key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "url": "https://evil.example/login", "visibility": "private", "tags": ["phishing"]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "message": "Submission successful",
            "uuid": UUID,
            "result": format!("https://urlscan.io/result/{UUID}/"),
            "api": format!("https://urlscan.io/api/v1/result/{UUID}/"),
            "visibility": "private",
            "options": {"useragent": "Mozilla/5.0"},
            "url": "https://evil.example/login",
            "country": "de"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "urlscan.submit",
        &format!(
            "{}\n      url: https://evil.example/login\n      tags: [phishing]",
            base_url(&server, "/api/v1")
        ),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["uuid"], UUID);
    assert_eq!(out["visibility"], "private");
    assert_eq!(
        out["api_url"],
        format!("https://urlscan.io/api/v1/result/{UUID}/")
    );
}

fn result_body() -> serde_json::Value {
    json!({
        "task": {"uuid": UUID, "url": "https://evil.example/login", "visibility": "private",
                 "reportURL": format!("https://urlscan.io/result/{UUID}/"),
                 "screenshotURL": format!("https://urlscan.io/screenshots/{UUID}.png")},
        "page": {"url": "https://evil.example/login/", "domain": "evil.example",
                 "ip": "203.0.113.9", "country": "US", "server": "nginx", "title": "Sign in"},
        "lists": {"ips": ["203.0.113.9"], "domains": ["evil.example", "cdn.example"]},
        "verdicts": {"overall": {"score": 100, "categories": ["phishing"], "brands": ["Microsoft"],
                                 "tags": [], "malicious": true, "hasVerdicts": true}}
    })
}

#[tokio::test]
async fn result_is_retried_while_the_scan_runs() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/result/{UUID}/")))
        .and(header("API-Key", KEY))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Scan is not finished yet", "status": 404
        })))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/result/{UUID}/")))
        .and(header("API-Key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(result_body()))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let t = engine().await;
    t.install(&support::playbook_with_retry(
        "urlscan.result",
        &format!("{}\n      uuid: {UUID}", base_url(&server, "/api/v1")),
        "{ attempts: 5, backoff: 10ms, jitter: false }",
    ))
    .await;
    let (run, events) = t.run("call_it", json!({})).await;
    let out = output(&run, &events);
    assert_eq!(out["malicious"], true);
    assert_eq!(out["score"], 100);
    assert_eq!(out["brands"], json!(["Microsoft"]));
    assert_eq!(out["final_url"], "https://evil.example/login/");
    assert_eq!(out["domains"], json!(["evil.example", "cdn.example"]));
}

#[tokio::test]
async fn a_scan_that_never_finishes_fails_as_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Scan is not finished yet", "status": 404
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "urlscan.result",
        &format!("{}\n      uuid: {UUID}", base_url(&server, "/api/v1")),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "transient");
    assert_eq!(
        reason,
        "action `call` failed: the scan is not finished yet (HTTP 404): Scan is not finished yet"
    );
}

#[tokio::test]
async fn a_429_waits_for_the_rate_limit_reset_urlscan_announces() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/scan/"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Scope", "team")
                .insert_header("X-Rate-Limit-Action", "private")
                .insert_header("X-Rate-Limit-Window", "minute")
                .insert_header("X-Rate-Limit-Limit", "5")
                .insert_header("X-Rate-Limit-Remaining", "0")
                .insert_header("X-Rate-Limit-Reset", "2024-06-01T12:01:00.000Z")
                .insert_header("X-Rate-Limit-Reset-After", "42")
                .set_body_json(json!({
                    "message": "Rate limit for private scans exceeded",
                    "description": "Please slow down.", "status": 429
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    t.install(&support::playbook_with_retry(
        "urlscan.submit",
        &format!(
            "{}\n      url: https://evil.example/login",
            base_url(&server, "/api/v1")
        ),
        "{ attempts: 2, backoff: 10ms }",
    ))
    .await;
    let run = t.start_run("call_it", json!({})).await;
    let wait = support::retry_scheduled(&t, run, 2).await;
    assert!((30..=42).contains(&wait), "retried in {wait}s");
    let record = muster_store::Store::run(&t.store, run)
        .await
        .unwrap()
        .unwrap();
    let reason = record.reason.unwrap_or_default();
    assert!(
        reason.contains(
            "HTTP 429 Too Many Requests: Rate limit for private scans exceeded: Please slow down."
        ),
        "{reason}"
    );
}
