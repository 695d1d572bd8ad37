//! VulnCheck API v3: a bearer token, `/v3/index/vulncheck-kev` and `/v3/index/exploits`
//! with `cve=`, `{"_meta": {...}, "data": [...]}` answers, 401 for a bad token.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const TOKEN: &str = "vulncheck_0123456789abcdef";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "vulncheck", json!({"type": "text", "value": TOKEN})).await;
    t
}

fn meta(index: &str, total: u64) -> serde_json::Value {
    json!({"timestamp": "2024-06-01T12:00:00Z", "index": index, "limit": 100,
           "total_documents": total, "sort": "_id", "parameters": [{"name": "cve", "format": "CVE-YYYY-N{4-7}"}],
           "order": "desc", "page": 1, "total_pages": 1, "max_pages": 6, "first_item": 1, "last_item": total})
}

#[tokio::test]
async fn kev_finds_a_known_exploited_cve_with_the_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/index/vulncheck-kev"))
        .and(query_param("cve", "CVE-2021-44228"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "_benchmark": 0.05,
            "_meta": meta("vulncheck-kev", 1),
            "data": [{
                "vendorProject": "Apache", "product": "Log4j2",
                "shortDescription": "Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints.",
                "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
                "required_action": "Apply updates per vendor instructions.",
                "knownRansomwareCampaignUse": "Known",
                "cve": ["CVE-2021-44228"],
                "vulncheck_xdb": [{"xdb_id": "0b7e9e6a1c2f", "xdb_url": "https://vulncheck.com/xdb/0b7e9e6a1c2f", "exploit_type": "initial-access"}],
                "vulncheck_reported_exploitation": [{"url": "https://www.cisa.gov/known-exploited-vulnerabilities-catalog", "date_added": "2021-12-10T00:00:00Z"}],
                "dueDate": "2021-12-24T00:00:00Z", "cisa_date_added": "2021-12-10T00:00:00Z",
                "date_added": "2021-12-10T00:00:00Z", "_timestamp": "2024-06-01T00:00:00Z"
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "vulncheck.kev",
        &format!("{}\n      cve: cve-2021-44228", base_url(&server, "/v3")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["cve"], "CVE-2021-44228");
    assert_eq!(out["listed"], true);
    assert_eq!(out["ransomware"], "Known");
    assert_eq!(out["product"], "Log4j2");
    assert_eq!(
        out["entry"]["vulncheck_xdb"][0]["exploit_type"],
        "initial-access"
    );
}

#[tokio::test]
async fn a_cve_outside_the_catalogue_is_not_listed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/index/vulncheck-kev"))
        .and(query_param("cve", "CVE-2024-0001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "_benchmark": 0.01, "_meta": meta("vulncheck-kev", 0), "data": []
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "vulncheck.kev",
        &format!("{}\n      cve: CVE-2024-0001", base_url(&server, "/v3")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["listed"], false);
    assert_eq!(out["entry"], serde_json::Value::Null);
}

#[tokio::test]
async fn exploits_reports_exploit_maturity() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/index/exploits"))
        .and(query_param("cve", "CVE-2021-44228"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "_meta": meta("exploits", 1),
            "data": [{
                "id": "CVE-2021-44228", "in_kev": true, "in_vulncheck_kev": true,
                "public_exploit_found": true, "commercial_exploit_found": true,
                "weaponized_exploit_found": true, "max_exploit_maturity": "weaponized",
                "reported_exploited": true, "reported_exploited_by_ransomware": true,
                "epss": {"epss_score": 0.97565, "epss_percentile": 0.99996},
                "counts": {"exploits": 312, "threat_actors": 47, "botnets": 9, "ransomware_families": 12}
            }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "vulncheck.exploits",
        &format!("{}\n      cve: CVE-2021-44228", base_url(&server, "/v3")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["found"], true);
    assert_eq!(out["max_exploit_maturity"], "weaponized");
    assert_eq!(out["weaponized_exploit_found"], true);
    assert_eq!(out["epss"]["epss_score"], 0.97565);
    assert_eq!(out["entry"]["counts"]["threat_actors"], 47);
}

#[tokio::test]
async fn index_queries_any_index_with_its_parameters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/index/initial-access"))
        .and(query_param("cve", "CVE-2023-4966"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "_meta": meta("initial-access", 1),
            "data": [{"cve": "CVE-2023-4966", "vendor": "Citrix", "product": "NetScaler ADC"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "vulncheck.index",
        &format!(
            "{}\n      index: initial-access\n      query: {{ cve: CVE-2023-4966 }}",
            base_url(&server, "/v3")
        ),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["data"][0]["vendor"], "Citrix");
    assert_eq!(out["meta"]["index"], "initial-access");
}

#[tokio::test]
async fn a_bad_token_is_a_permanent_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": true, "errors": ["unauthorized: invalid token"]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "vulncheck.kev",
        &format!("{}\n      cve: CVE-2021-44228", base_url(&server, "/v3")),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.ends_with("HTTP 401 Unauthorized: unauthorized: invalid token"),
        "{reason}"
    );
}
