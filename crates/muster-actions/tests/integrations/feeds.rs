//! Public feeds without credentials: CISA's KEV catalogue (JSON) and OpenPhish's community
//! feed (text, one URL per line).

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, only_request, output};

const KEV_PATH: &str = "/sites/default/files/feeds/known_exploited_vulnerabilities.json";

fn catalogue() -> Value {
    json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2024.06.01",
        "dateReleased": "2024-06-01T15:00:00.0000Z",
        "count": 2,
        "vulnerabilities": [
            {"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
             "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
             "dateAdded": "2021-12-10", "shortDescription": "Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints, allowing for remote code execution.",
             "requiredAction": "For all affected software assets for which updates exist, the only acceptable remediation actions are: 1) Apply updates; OR 2) remove affected assets from agency networks.",
             "dueDate": "2021-12-24", "knownRansomwareCampaignUse": "Known", "notes": "https://logging.apache.org/log4j/2.x/security.html", "cwes": ["CWE-20", "CWE-400", "CWE-502"]},
            {"cveID": "CVE-2023-4966", "vendorProject": "Citrix", "product": "NetScaler ADC and NetScaler Gateway",
             "vulnerabilityName": "Citrix NetScaler ADC and NetScaler Gateway Buffer Overflow Vulnerability",
             "dateAdded": "2023-10-18", "shortDescription": "Citrix NetScaler ADC and NetScaler Gateway contain a buffer overflow vulnerability that allows for sensitive information disclosure.",
             "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.",
             "dueDate": "2023-11-08", "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-119"]}
        ]
    })
}

async fn kev_server(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let response = match status {
        200 => ResponseTemplate::new(200).set_body_json(catalogue()),
        _ => ResponseTemplate::new(status)
            .set_body_string("<html><body>Service Unavailable</body></html>"),
    };
    Mock::given(method("GET"))
        .and(path(KEV_PATH))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_kev_catalogue_downloads_without_a_credential() {
    let server = kev_server(200).await;
    let t = support::engine().await;
    let (run, events) = call(&t, "cisa_kev.catalog", &base_url(&server, ""), json!({})).await;
    let out = output(&run, &events);
    assert_eq!(out["version"], "2024.06.01");
    assert_eq!(out["count"], 2);
    assert_eq!(out["cves"], json!(["CVE-2021-44228", "CVE-2023-4966"]));
    let request = only_request(&server).await;
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn kev_lookup_finds_a_listed_cve() {
    let server = kev_server(200).await;
    let t = support::engine().await;
    let (run, events) = call(
        &t,
        "cisa_kev.lookup",
        &format!("{}\n      cve: cve-2023-4966", base_url(&server, "")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["listed"], true);
    assert_eq!(out["date_added"], "2023-10-18");
    assert_eq!(out["due_date"], "2023-11-08");
    assert_eq!(out["ransomware"], "Known");
    assert_eq!(out["entry"]["cwes"], json!(["CWE-119"]));
}

#[tokio::test]
async fn kev_lookup_of_an_unlisted_cve() {
    let server = kev_server(200).await;
    let t = support::engine().await;
    let (run, events) = call(
        &t,
        "cisa_kev.lookup",
        &format!("{}\n      cve: CVE-2024-0001", base_url(&server, "")),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["listed"], false);
    assert_eq!(out["entry"], Value::Null);
    assert_eq!(out["name"], Value::Null);
}

#[tokio::test]
async fn an_unavailable_feed_is_transient() {
    let server = kev_server(503).await;
    let t = support::engine().await;
    let (run, _) = call(&t, "cisa_kev.catalog", &base_url(&server, ""), json!({})).await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "transient");
    assert_eq!(reason, "action `call` failed: HTTP 503 Service Unavailable");
}

const FEED: &str = "https://login-micros0ft.example/owa/\nhttp://paypa1.example/signin\nhttps://evil.example/drive/share.php?id=7\n";

async fn feed_server(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let response = match status {
        200 => ResponseTemplate::new(200)
            .insert_header("content-type", "text/plain")
            .set_body_string(FEED),
        _ => ResponseTemplate::new(status).set_body_string("Not Found"),
    };
    Mock::given(method("GET"))
        .and(path("/feed.txt"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_openphish_feed_becomes_a_list_of_urls() {
    let server = feed_server(200).await;
    let t = support::engine().await;
    let (run, events) = call(&t, "openphish.feed", &base_url(&server, ""), json!({})).await;
    let out = output(&run, &events);
    assert_eq!(out["count"], 3);
    assert_eq!(out["urls"][1], "http://paypa1.example/signin");
}

#[tokio::test]
async fn openphish_lookup_refangs_and_ignores_a_trailing_slash() {
    for (url, listed) in [
        ("hxxp://paypa1[.]example/signin", true),
        ("https://login-micros0ft.example/owa", true),
        ("https://evil.example/drive/share.php?id=7", true),
        ("https://example.com/", false),
    ] {
        let server = feed_server(200).await;
        let t = support::engine().await;
        let (run, events) = call(
            &t,
            "openphish.lookup",
            &format!("{}\n      url: \"{url}\"", base_url(&server, "")),
            json!({}),
        )
        .await;
        let out = output(&run, &events);
        assert_eq!(out["listed"], listed, "{url}");
    }
}

#[tokio::test]
async fn a_missing_feed_is_a_permanent_error() {
    let server = feed_server(404).await;
    let t = support::engine().await;
    let (run, _) = call(&t, "openphish.feed", &base_url(&server, ""), json!({})).await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(reason, "action `call` failed: HTTP 404 Not Found");
}
