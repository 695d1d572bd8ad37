//! NVD CVE API 2.0: `/rest/json/cves/2.0?cveId=` or `?cpeName=`, the optional `apiKey`
//! header, its rate limits (50 or 5 requests per 30 s), 404 with a `message` header for a bad
//! parameter, 403 when the rate limit is passed.

use muster_store::RunStatus;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, only_request, output};

const KEY: &str = "1e8c7a5b-nvd-api-key";

fn log4shell() -> Value {
    json!({
        "resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE",
        "version": "2.0", "timestamp": "2024-06-01T12:00:00.000",
        "vulnerabilities": [{"cve": {
            "id": "CVE-2021-44228", "sourceIdentifier": "security@apache.org",
            "published": "2021-12-10T10:15:09.143", "lastModified": "2024-04-03T17:15:08.993",
            "vulnStatus": "Modified",
            "cisaExploitAdd": "2021-12-10", "cisaActionDue": "2021-12-24",
            "descriptions": [
                {"lang": "es", "value": "Apache Log4j2 2.0-beta9 hasta 2.15.0 ..."},
                {"lang": "en", "value": "Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features do not protect against attacker controlled LDAP endpoints."}
            ],
            "metrics": {
                "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
                    "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                    "baseScore": 10.0, "baseSeverity": "CRITICAL"},
                    "exploitabilityScore": 3.9, "impactScore": 6.0}],
                "cvssMetricV2": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
                    "version": "2.0", "vectorString": "AV:N/AC:M/Au:N/C:C/I:C/A:C", "baseScore": 9.3},
                    "baseSeverity": "HIGH"}]
            },
            "weaknesses": [
                {"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": "CWE-917"}]},
                {"source": "security@apache.org", "type": "Secondary", "description": [{"lang": "en", "value": "CWE-20"}, {"lang": "en", "value": "CWE-917"}]}
            ],
            "references": [{"url": "https://logging.apache.org/log4j/2.x/security.html", "source": "security@apache.org"}]
        }}]
    })
}

#[tokio::test]
async fn cve_picks_the_newest_cvss_and_the_english_description() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/json/cves/2.0"))
        .and(query_param("cveId", "CVE-2021-44228"))
        .and(header("apiKey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(log4shell()))
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(&t, "nvd", json!({"type": "text", "value": KEY})).await;
    let (run, events) = call(
        &t,
        "nvd.cve",
        &format!(
            "{}\n      cve: cve-2021-44228",
            base_url(&server, "/rest/json")
        ),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["found"], true);
    assert_eq!(out["score"], 10.0);
    assert_eq!(out["severity"], "CRITICAL");
    assert_eq!(
        out["vector"],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
    );
    assert!(
        out["description"]
            .as_str()
            .unwrap()
            .starts_with("Apache Log4j2 2.0-beta9 through")
    );
    assert_eq!(out["cwes"], json!(["CWE-20", "CWE-917"]));
    assert_eq!(out["kev"], true);
    assert_eq!(
        out["references"],
        json!(["https://logging.apache.org/log4j/2.x/security.html"])
    );
}

#[tokio::test]
async fn without_a_key_no_header_is_sent_and_the_slower_limit_applies() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/json/cves/2.0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resultsPerPage": 0, "startIndex": 0, "totalResults": 0, "format": "NVD_CVE",
            "version": "2.0", "timestamp": "2024-06-01T12:00:00.000", "vulnerabilities": []
        })))
        .expect(5)
        .mount(&server)
        .await;
    let t = support::engine().await;
    t.install(&support::playbook(
        "nvd.cve",
        &format!(
            "{}\n      cve: CVE-2099-0001\n      credential: \"\"",
            base_url(&server, "/rest/json")
        ),
    ))
    .await;
    for _ in 0..5 {
        let (run, events) = t.run("call_it", json!({})).await;
        let out = output(&run, &events);
        assert_eq!(out["found"], false);
        assert_eq!(out["score"], Value::Null);
    }
    let request = &server.received_requests().await.unwrap()[0];
    assert!(request.headers.get("apiKey").is_none());
    let sixth = t.start_run("call_it", json!({})).await;
    let waiting = super::common::wait_for_status(&t, sixth, RunStatus::Waiting).await;
    assert!(
        waiting
            .reason
            .unwrap_or_default()
            .starts_with("rate limited by host 127.0.0.1 (5/30s)"),
    );
}

#[tokio::test]
async fn cves_by_cpe_lists_one_page() {
    let server = MockServer::start().await;
    let cpe = "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*";
    let mut page = log4shell();
    page["totalResults"] = json!(3);
    page["resultsPerPage"] = json!(1);
    page["startIndex"] = json!(2);
    Mock::given(method("GET"))
        .and(path("/rest/json/cves/2.0"))
        .and(query_param("cpeName", cpe))
        .and(query_param("resultsPerPage", "1"))
        .and(query_param("startIndex", "2"))
        .and(header("apiKey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(&t, "nvd", json!({"type": "text", "value": KEY})).await;
    let (run, events) = call(
        &t,
        "nvd.cves_by_cpe",
        &format!(
            "{}\n      cpe: \"{cpe}\"\n      results_per_page: 1\n      start_index: 2",
            base_url(&server, "/rest/json")
        ),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["total"], 3);
    assert_eq!(out["count"], 1);
    assert_eq!(out["cves"], json!(["CVE-2021-44228"]));
    only_request(&server).await;
}

#[tokio::test]
async fn a_refused_parameter_is_explained_by_the_message_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).insert_header("message", "Invalid apiKey"))
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(&t, "nvd", json!({"type": "text", "value": "not-a-key"})).await;
    let (run, _) = call(
        &t,
        "nvd.cve",
        &format!(
            "{}\n      cve: CVE-2021-44228",
            base_url(&server, "/rest/json")
        ),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.ends_with("HTTP 404 Not Found: Invalid apiKey"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_403_is_nvds_rate_limit_and_waits_thirty_seconds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(&t, "nvd", json!({"type": "text", "value": KEY})).await;
    t.install(&support::playbook_with_retry(
        "nvd.cve",
        &format!(
            "{}\n      cve: CVE-2021-44228",
            base_url(&server, "/rest/json")
        ),
        "{ attempts: 2, backoff: 10ms }",
    ))
    .await;
    let run = t.start_run("call_it", json!({})).await;
    let wait = support::retry_scheduled(&t, run, 2).await;
    assert!((25..=30).contains(&wait), "retried in {wait}s");
}
