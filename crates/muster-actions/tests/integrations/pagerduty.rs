//! PagerDuty Events API v2: `POST /v2/enqueue` with the routing key in the body, 202
//! `{"status": "success", "dedup_key"}`, 400 `invalid event` with its errors, 429 throttling.

use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const ROUTING_KEY: &str = "R0UT1NGK3Y0123456789abcdef012345";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(
        &t,
        "pagerduty",
        json!({"type": "text", "value": ROUTING_KEY}),
    )
    .await;
    t
}

fn accepted(dedup_key: &str) -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({
        "status": "success", "message": "Event processed", "dedup_key": dedup_key
    }))
}

#[tokio::test]
async fn trigger_then_resolve_with_the_dedup_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(body_json(json!({
            "routing_key": ROUTING_KEY,
            "event_action": "trigger",
            "payload": {
                "summary": "Ransomware behaviour on fin-laptop-07",
                "source": "fin-laptop-07",
                "severity": "critical",
                "custom_details": {"process": "vssadmin.exe delete shadows"}
            }
        })))
        .respond_with(accepted("srv01/7a3b"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .and(body_json(json!({
            "routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "srv01/7a3b"
        })))
        .respond_with(accepted("srv01/7a3b"))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "pagerduty.trigger",
        &format!(
            "{}\n      summary: \"Ransomware behaviour on {{{{ start.host }}}}\"\n      source: \"{{{{ start.host }}}}\"\n      severity: critical\n      custom_details: {{ process: vssadmin.exe delete shadows }}",
            base_url(&server, "")
        ),
        json!({"host": "fin-laptop-07"}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["status"], "success");
    assert_eq!(out["dedup_key"], "srv01/7a3b");
    let (run, events) = call(
        &t,
        "pagerduty.resolve",
        &format!("{}\n      dedup_key: srv01/7a3b", base_url(&server, "")),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["message"], "Event processed");
}

#[tokio::test]
async fn an_invalid_event_fails_with_pagerdutys_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/enqueue"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "pagerduty.acknowledge",
        &format!("{}\n      dedup_key: x", base_url(&server, "")),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(
        reason,
        "action `call` failed: HTTP 400 Bad Request: Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
    );
}

#[tokio::test]
async fn throttling_is_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "pagerduty.resolve",
        &format!("{}\n      dedup_key: srv01/7a3b", base_url(&server, "")),
        json!({}),
    )
    .await;
    let (_, class) = failure(&run);
    assert_eq!(class, "rate_limited");
}

#[tokio::test]
async fn a_severity_pagerduty_does_not_know_does_not_load() {
    let t = engine().await;
    let yaml = support::playbook(
        "pagerduty.trigger",
        "      summary: x\n      source: y\n      severity: urgent",
    );
    assert!(t.engine.install("test.yaml", &yaml).await.is_err());
}
