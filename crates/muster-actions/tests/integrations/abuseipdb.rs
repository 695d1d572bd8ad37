//! AbuseIPDB API v2: `Key` and `Accept: application/json` headers, `/api/v2/check` and
//! `/api/v2/report`, `{"data": {...}}` answers, `{"errors": [{"detail", "status"}]}` errors and
//! `X-RateLimit-*` headers.

use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, only_request, output};

const KEY: &str = "abuseipdb-k3y-e5c0ffee";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "abuseipdb", json!({"type": "text", "value": KEY})).await;
    t
}

fn options(server: &MockServer, lines: &str) -> String {
    format!("{}\n{lines}", base_url(server, "/api/v2"))
}

fn quota(remaining: u32) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-RateLimit-Limit", "1000")
        .insert_header("X-RateLimit-Remaining", remaining.to_string().as_str())
}

#[tokio::test]
async fn check_sends_the_key_and_shapes_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/check"))
        .and(query_param("ipAddress", "203.0.113.7"))
        .and(query_param("maxAgeInDays", "30"))
        .and(query_param_is_missing("verbose"))
        .and(header("Key", KEY))
        .and(header("Accept", "application/json"))
        .respond_with(quota(998).set_body_json(json!({
            "data": {
                "ipAddress": "203.0.113.7", "isPublic": true, "ipVersion": 4,
                "isWhitelisted": false, "abuseConfidenceScore": 100, "countryCode": "CN",
                "usageType": "Data Center/Web Hosting/Transit", "isp": "Example Telecom",
                "domain": "example.cn", "hostnames": [], "isTor": false, "totalReports": 1042,
                "numDistinctUsers": 311, "lastReportedAt": "2024-06-01T12:00:00+00:00"
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "abuseipdb.check_ip",
        &options(
            &server,
            "      ip: \"{{ start.ip }}\"\n      max_age_days: 30",
        ),
        json!({"ip": "203.0.113.7"}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["score"], 100);
    assert_eq!(out["total_reports"], 1042);
    assert_eq!(out["distinct_users"], 311);
    assert_eq!(out["country"], "CN");
    assert_eq!(out["is_tor"], false);
    assert_eq!(out["reports"], json!([]));
    assert_eq!(out["link"], "https://www.abuseipdb.com/check/203.0.113.7");
}

#[tokio::test]
async fn verbose_asks_for_the_reports() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/check"))
        .and(query_param("verbose", ""))
        .and(query_param("maxAgeInDays", "90"))
        .respond_with(quota(997).set_body_json(json!({
            "data": {"ipAddress": "203.0.113.7", "abuseConfidenceScore": 12, "totalReports": 1,
                     "reports": [{"reportedAt": "2024-06-01T12:00:00+00:00", "comment": "ssh", "categories": [18, 22]}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "abuseipdb.check_ip",
        &options(&server, "      ip: 203.0.113.7\n      verbose: true"),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["reports"][0]["categories"], json!([18, 22]));
}

#[tokio::test]
async fn report_posts_the_categories_as_a_comma_separated_form_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/report"))
        .and(header("Key", KEY))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "ip=203.0.113.7&categories=18%2C22&comment=SSH+brute+force",
        ))
        .respond_with(quota(999).set_body_json(json!({
            "data": {"ipAddress": "203.0.113.7", "abuseConfidenceScore": 52}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "abuseipdb.report_ip",
        &options(
            &server,
            "      ip: 203.0.113.7\n      categories: [18, 22]\n      comment: SSH brute force",
        ),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out, json!({"ip": "203.0.113.7", "score": 52}));
    let request = only_request(&server).await;
    assert!(request.headers.get("idempotency-key").is_some());
}

#[tokio::test]
async fn a_second_report_within_fifteen_minutes_is_rate_limited_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/report"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "900")
                .insert_header("X-RateLimit-Limit", "1000")
                .insert_header("X-RateLimit-Remaining", "998")
                .insert_header("X-RateLimit-Reset", "1718000900")
                .set_body_json(json!({"errors": [{
                    "detail": "You can only report the same IP address (`203.0.113.7`) once in 15 minutes.",
                    "status": 429,
                    "source": {"parameter": "ip"}
                }]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    t.install(&support::playbook_with_retry(
        "abuseipdb.report_ip",
        &options(&server, "      ip: 203.0.113.7\n      categories: [18]"),
        "{ attempts: 2, backoff: 10ms }",
    ))
    .await;
    let run = t.start_run("call_it", json!({})).await;
    let wait = support::retry_scheduled(&t, run, 2).await;
    assert!((880..=900).contains(&wait), "retried in {wait}s");
}

#[tokio::test]
async fn an_invalid_address_is_a_permanent_error_in_abuseipdbs_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/check"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"errors": [{
            "detail": "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).",
            "status": 422,
            "source": {"parameter": "ipAddress"}
        }]})))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "abuseipdb.check_ip",
        &options(&server, "      ip: \"999.1.1.1\""),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.ends_with("HTTP 422 Unprocessable Entity: The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888)."),
        "{reason}"
    );
}

#[tokio::test]
async fn an_input_that_is_not_an_address_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "abuseipdb.check_ip",
        &options(&server, "      ip: \"{{ start.ip }}\""),
        json!({"ip": "1.2.3.4/../../report"}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.contains("option `ip` does not look right"),
        "{reason}"
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}
