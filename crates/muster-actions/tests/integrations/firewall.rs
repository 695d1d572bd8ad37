//! The generic firewall template: `POST /api/v1/blocklist` and `DELETE
//! /api/v1/blocklist/{ip}` with a bearer token; 409 (already blocked) and 404 (not blocked)
//! are answers, not errors.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const TOKEN: &str = "fw-api-t0ken";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "firewall", json!({"type": "text", "value": TOKEN})).await;
    t
}

#[tokio::test]
async fn block_and_unblock() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/blocklist"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(
            json!({"ip": "203.0.113.7", "duration": 3600, "comment": "VPN brute force"}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "rule-812", "ip": "203.0.113.7"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/blocklist/203.0.113.0%2F24"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let base = base_url(&server, "");
    let (run, events) = call(
        &t,
        "firewall.block_ip",
        &format!(
            "{base}\n      ip: 203.0.113.7\n      duration: 3600\n      comment: VPN brute force"
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&run, &events),
        json!({"ip": "203.0.113.7", "blocked": true, "already_blocked": false, "id": "rule-812"})
    );
    let (run, events) = call(
        &t,
        "firewall.unblock_ip",
        &format!("{base}\n      ip: 203.0.113.0/24"),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["was_blocked"], true);
}

#[tokio::test]
async fn an_address_already_blocked_is_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({"error": "already blocked"})))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "firewall.block_ip",
        &format!("{}\n      ip: 203.0.113.7", base_url(&server, "")),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["already_blocked"], true);
}

#[tokio::test]
async fn a_refused_token_fails_in_the_firewalls_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid token"})))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "firewall.block_ip",
        &format!("{}\n      ip: 203.0.113.7", base_url(&server, "")),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(
        reason,
        "action `call` failed: HTTP 401 Unauthorized: invalid token"
    );
}
