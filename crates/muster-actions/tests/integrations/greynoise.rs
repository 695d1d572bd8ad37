//! GreyNoise Community API: `key` header, `/v3/community/{ip}`, 404 for an address it has not
//! seen (a normal answer), 429 with the plan's limit in the body.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const KEY: &str = "gn-community-k3y";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "greynoise", json!({"type": "text", "value": KEY})).await;
    t
}

#[tokio::test]
async fn a_scanner_is_noise() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/community/203.0.113.7"))
        .and(header("key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ip": "203.0.113.7", "noise": true, "riot": false, "classification": "malicious",
            "name": "unknown", "link": "https://viz.greynoise.io/ip/203.0.113.7",
            "last_seen": "2024-06-01", "message": "Success"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "greynoise.community_lookup",
        &format!("{}\n      ip: 203.0.113.7", base_url(&server, "")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["observed"], true);
    assert_eq!(out["noise"], true);
    assert_eq!(out["classification"], "malicious");
    assert_eq!(out["last_seen"], "2024-06-01");
}

#[tokio::test]
async fn an_address_greynoise_has_not_seen_is_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/community/198.51.100.20"))
        .and(header("key", KEY))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "ip": "198.51.100.20", "noise": false, "riot": false,
            "message": "IP not observed scanning the internet or contained in RIOT data set."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "greynoise.community_lookup",
        &format!("{}\n      ip: 198.51.100.20", base_url(&server, "")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["observed"], false);
    assert_eq!(out["noise"], false);
    assert_eq!(out["classification"], serde_json::Value::Null);
    assert_eq!(
        out["message"],
        "IP not observed scanning the internet or contained in RIOT data set."
    );
}

#[tokio::test]
async fn the_daily_limit_is_rate_limited_with_greynoises_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "plan": "community", "rate-limit": "50-lookups/week",
            "plan_url": "https://greynoise.io/pricing",
            "message": "You have hit your weekly rate limit of 50 requests."
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "greynoise.community_lookup",
        &format!("{}\n      ip: 203.0.113.7", base_url(&server, "")),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "rate_limited");
    assert!(
        reason.ends_with(
            "HTTP 429 Too Many Requests: You have hit your weekly rate limit of 50 requests."
        ),
        "{reason}"
    );
}
