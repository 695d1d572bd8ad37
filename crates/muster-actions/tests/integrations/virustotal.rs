//! VirusTotal API v3: `x-apikey` header, `/api/v3/...` paths, `{"data": {...}}` answers and
//! `{"error": {"code", "message"}}` errors.

use base64::Engine as _;
use muster_store::RunStatus;
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, only_request, output};

const KEY: &str = "vt-4pi-k3y-0123456789";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "virustotal", json!({"type": "text", "value": KEY})).await;
    t
}

fn options(server: &MockServer, input: &str) -> String {
    format!("{}\n      {input}", base_url(server, "/api/v3"))
}

fn stats(malicious: u64) -> Value {
    json!({"harmless": 61, "malicious": malicious, "suspicious": 0, "timeout": 0, "undetected": 27})
}

#[tokio::test]
async fn ip_report_sends_the_key_and_shapes_the_report() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ip_addresses/203.0.113.7"))
        .and(header("x-apikey", KEY))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {
                "type": "ip_address",
                "id": "203.0.113.7",
                "links": {"self": "https://www.virustotal.com/api/v3/ip_addresses/203.0.113.7"},
                "attributes": {
                    "as_owner": "Example Hosting", "asn": 64500, "country": "NL",
                    "network": "203.0.113.0/24", "reputation": -11, "tags": ["scanner"],
                    "last_analysis_stats": stats(5), "last_analysis_date": 1718000000
                }
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.ip_report",
        &options(&server, "ip: \"{{ start.ip }}\""),
        json!({"ip": "203.0.113.7"}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["ip"], "203.0.113.7");
    assert_eq!(out["malicious"], 5);
    assert_eq!(out["harmless"], 61);
    assert_eq!(out["asn"], 64500);
    assert_eq!(out["tags"], json!(["scanner"]));
    assert_eq!(
        out["link"],
        "https://www.virustotal.com/gui/ip-address/203.0.113.7"
    );
    assert_eq!(out["attributes"]["network"], "203.0.113.0/24");
}

#[tokio::test]
async fn a_hash_virustotal_has_not_seen_is_found_false_not_an_error() {
    let server = MockServer::start().await;
    let hash = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/files/{hash}")))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": "NotFoundError", "message": format!("File \"{hash}\" not found")}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.file_report",
        &options(&server, &format!("hash: {}", hash.to_uppercase())),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["found"], false);
    assert_eq!(out["malicious"], Value::Null);
}

#[tokio::test]
async fn file_report_of_a_known_hash() {
    let server = MockServer::start().await;
    let hash = "44d88612fea8a8f36de82e1278abb02f";
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/files/{hash}")))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "file", "id": "275a021b", "attributes": {
                "sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                "meaningful_name": "eicar.com", "type_description": "Text", "size": 68,
                "reputation": -300, "last_analysis_stats": stats(60),
                "popular_threat_classification": {"suggested_threat_label": "virus.eicar/test"}
            }}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.file_report",
        &options(&server, &format!("hash: {hash}")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["found"], true);
    assert_eq!(out["malicious"], 60);
    assert_eq!(out["name"], "eicar.com");
    assert_eq!(out["threat_label"], "virus.eicar/test");
}

#[tokio::test]
async fn url_report_looks_the_url_up_by_its_unpadded_url_safe_base64_id() {
    let server = MockServer::start().await;
    let url = "http://evil.example/login?next=/a+b";
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url);
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/urls/{id}")))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "url", "id": "1db0ad7dbcec0676710ea0eaacd35d5e471d3e11944d53bcbd31f0cbd11bce31",
                     "attributes": {"url": url, "last_final_url": "http://evil.example/login/",
                                    "title": "Sign in", "last_analysis_stats": stats(9),
                                    "categories": {"Forcepoint ThreatSeeker": "phishing"}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.url_report",
        &options(&server, &format!("url: \"{url}\"")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["found"], true);
    assert_eq!(out["malicious"], 9);
    assert_eq!(out["categories"]["Forcepoint ThreatSeeker"], "phishing");
}

#[tokio::test]
async fn url_submit_posts_a_form_and_returns_the_analysis_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v3/urls"))
        .and(header("x-apikey", KEY))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("url=https%3A%2F%2Fevil.example%2Flogin"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "analysis", "id": "u-1db0ad7d-1718000000",
                     "links": {"self": "https://www.virustotal.com/api/v3/analyses/u-1db0ad7d-1718000000"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/analyses/u-1db0ad7d-1718000000"))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "analysis", "id": "u-1db0ad7d-1718000000",
                     "attributes": {"status": "completed", "stats": stats(3), "results": {}}},
            "meta": {"url_info": {"id": "1db0ad7d", "url": "https://evil.example/login"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.url_submit",
        &options(&server, "url: https://evil.example/login"),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["analysis_id"], "u-1db0ad7d-1718000000");
    let (run, events) = call(
        &t,
        "virustotal.analysis",
        &options(&server, "id: u-1db0ad7d-1718000000"),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["completed"], true);
    assert_eq!(out["malicious"], 3);
    assert_eq!(out["url"], "https://evil.example/login");
}

#[tokio::test]
async fn domain_report_lowercases_the_domain() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/domains/evil.example"))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "domain", "id": "evil.example", "attributes": {
                "last_analysis_stats": stats(2), "reputation": -5, "registrar": "Example Registrar",
                "categories": {"BitDefender": "phishing"}, "creation_date": 1717000000
            }}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "virustotal.domain_report",
        &options(&server, "domain: Evil.Example"),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["domain"], "evil.example");
    assert_eq!(out["registrar"], "Example Registrar");
}

#[tokio::test]
async fn a_wrong_key_is_a_permanent_error_in_virustotals_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ip_addresses/203.0.113.7"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"code": "WrongCredentialsError", "message": "Wrong API key"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "virustotal.ip_report",
        &options(&server, "ip: 203.0.113.7"),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(
        reason,
        "action `call` failed: HTTP 401 Unauthorized: WrongCredentialsError: Wrong API key"
    );
    assert_eq!(class, "permanent");
}

#[tokio::test]
async fn an_exceeded_quota_is_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "error": {"code": "QuotaExceededError", "message": "Quota exceeded"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "virustotal.domain_report",
        &options(&server, "domain: evil.example"),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert!(
        reason.ends_with("HTTP 429 Too Many Requests: QuotaExceededError: Quota exceeded"),
        "{reason}"
    );
    assert_eq!(class, "rate_limited");
}

#[tokio::test]
async fn the_public_quota_of_four_a_minute_is_counted_per_credential() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "domain", "id": "evil.example", "attributes": {"last_analysis_stats": stats(0)}}
        })))
        .expect(4)
        .mount(&server)
        .await;
    let t = engine().await;
    t.install(&support::playbook(
        "virustotal.domain_report",
        &options(&server, "domain: evil.example"),
    ))
    .await;
    for _ in 0..4 {
        let (run, _) = t.run("call_it", json!({})).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    }
    let fifth = t.start_run("call_it", json!({})).await;
    let waiting = super::common::wait_for_status(&t, fifth, RunStatus::Waiting).await;
    let reason = waiting.reason.unwrap_or_default();
    assert!(
        reason.starts_with("rate limited by credential virustotal (4/1m), waiting until "),
        "{reason}"
    );
}

#[tokio::test]
async fn the_key_is_not_sent_to_a_host_its_credential_does_not_allow() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let t = support::engine().await;
    t.set_credential(
        "virustotal",
        json!({"type": "text", "value": KEY}),
        &["www.virustotal.com"],
    )
    .await;
    let (run, _) = call(
        &t,
        "virustotal.ip_report",
        &options(&server, "ip: 203.0.113.7"),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert!(
        reason.contains("virustotal") && reason.contains("127.0.0.1"),
        "{reason}"
    );
    assert_eq!(class, "permanent");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn another_credential_can_be_named() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ip_addresses/203.0.113.7"))
        .and(header("x-apikey", "premium-key-0000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"type": "ip_address", "id": "203.0.113.7", "attributes": {"last_analysis_stats": stats(0)}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    support::credential(
        &t,
        "vt_premium",
        json!({"type": "text", "value": "premium-key-0000"}),
    )
    .await;
    let (run, events) = call(
        &t,
        "virustotal.ip_report",
        &format!(
            "{}\n      credential: vt_premium\n      rate_limit: \"\"",
            options(&server, "ip: 203.0.113.7")
        ),
        json!({}),
    )
    .await;
    output(&run, &events);
    let request = only_request(&server).await;
    assert_eq!(request.headers.get("x-apikey").unwrap(), "premium-key-0000");
}
