//! The SSRF guard and failure classes of the outbound client, end to end through the engine:
//! refused addresses (literal, resolved and redirected to), the operator's allow list,
//! redirect limits, credentials on cross-origin redirects, DNS and TLS failures.

mod common;

use muster_actions::http::{AllowList, HttpSettings};
use muster_store::{RunRecord, RunStatus};
use muster_testkit::{TestEngine, outputs_of};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

fn settings(allow: &[&str]) -> HttpSettings {
    HttpSettings {
        allow: AllowList::parse(allow).unwrap(),
        ..HttpSettings::default()
    }
}

#[tokio::test]
async fn loopback_is_refused_by_default_and_the_error_says_how_to_allow_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = common::engine_with(HttpSettings::default()).await;
    let run = call(&t, &format!("{}/x", server.uri()), "").await;
    let (class, reason) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(reason.contains("127.0.0.1"), "{reason}");
    assert!(reason.contains("loopback"), "{reason}");
    assert!(reason.contains("[http] allow"), "{reason}");
    assert!(reason.contains("MUSTER_HTTP_ALLOW"), "{reason}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn names_that_resolve_to_loopback_are_refused_and_allowed_by_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let port = server.address().port();
    let url = format!("http://localhost:{port}/x");

    let strict = common::engine_with(HttpSettings::default()).await;
    let (class, reason) = failure(&call(&strict, &url, "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("`localhost`"), "{reason}");
    assert!(reason.contains("loopback"), "{reason}");
    assert!(server.received_requests().await.unwrap().is_empty());

    let by_name = common::engine_with(settings(&["localhost"])).await;
    let run = call(&by_name, &url, "").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
}

#[tokio::test]
async fn allowed_ranges_only_cover_what_they_say() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let t = common::engine_with(settings(&["10.0.0.0/8", "127.0.0.2/32"])).await;
    let (_, reason) = failure(&call(&t, &server.uri(), "").await);
    assert!(reason.contains("loopback"), "{reason}");
    let t = common::engine_with(settings(&["127.0.0.1/32"])).await;
    let run = call(&t, &server.uri(), "").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
}

#[tokio::test]
async fn literal_metadata_and_private_urls_are_refused_without_any_connection() {
    let t = common::engine_with(settings(&["169.254.0.0/16", "10.0.0.0/8"])).await;
    for url in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ] {
        let (class, reason) = failure(&call(&t, url, "").await);
        assert_eq!(class, "permanent", "{url}");
        assert!(reason.contains("metadata"), "{url}: {reason}");
    }
    let strict = common::engine_with(HttpSettings::default()).await;
    for url in [
        "http://192.168.1.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:8080/",
        "http://2130706433/",
    ] {
        let (class, reason) = failure(&call(&strict, url, "").await);
        assert_eq!(class, "permanent", "{url}");
        assert!(reason.contains("refused"), "{url}: {reason}");
    }
}

#[tokio::test]
async fn a_redirect_to_the_metadata_address_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/start"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", "http://169.254.169.254/latest/meta-data/"),
        )
        .mount(&server)
        .await;
    // Even an operator who allowed all of link-local space does not get metadata.
    let t = common::engine_with(settings(&["127.0.0.0/8", "169.254.0.0/16"])).await;
    let (class, reason) = failure(&call(&t, &format!("{}/start", server.uri()), "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("169.254.169.254"), "{reason}");
    assert!(reason.contains("metadata"), "{reason}");
    assert!(reason.contains("redirected from"), "{reason}");
    assert!(reason.contains("169.254.169.254/32"), "{reason}");
}

#[tokio::test]
async fn a_redirect_from_a_public_name_to_loopback_is_refused() {
    // The first hop is allowed (by name); its redirect to a loopback address is not.
    let target = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&target)
        .await;
    let start = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/inside", target.uri())),
        )
        .mount(&start)
        .await;
    let t = common::engine_with(settings(&["localhost"])).await;
    let url = format!("http://localhost:{}/", start.address().port());
    let (class, reason) = failure(&call(&t, &url, "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("loopback"), "{reason}");
    assert_eq!(start.received_requests().await.unwrap().len(), 1);
    assert!(target.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_chain_longer_than_the_limit_fails() {
    let server = MockServer::start().await;
    for hop in 0..10 {
        Mock::given(method("GET"))
            .and(path(format!("/hop/{hop}")))
            .respond_with(
                ResponseTemplate::new(302).insert_header("location", format!("/hop/{}", hop + 1)),
            )
            .mount(&server)
            .await;
    }
    let t = common::engine_with(HttpSettings {
        max_redirects: 3,
        ..common::loopback_http()
    })
    .await;
    let (class, reason) = failure(&call(&t, &format!("{}/hop/0", server.uri()), "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("more than 3 redirects"), "{reason}");
    assert!(reason.contains("max_redirects"), "{reason}");
    assert!(reason.contains("/hop/4"), "{reason}");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn redirects_within_the_limit_are_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/old"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/new"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"moved": true})))
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.install(&playbook(&format!("{}/old", server.uri()), ""))
        .await;
    let (run, events) = t.run("call", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(
        outputs_of(&events, "call")[0]["body"],
        json!({"moved": true})
    );
}

#[tokio::test]
async fn credentials_are_dropped_on_cross_origin_redirects_only() {
    let other = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&other)
        .await;
    let first = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/same"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/cross"))
        .mount(&first)
        .await;
    Mock::given(method("POST"))
        .and(path("/cross"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/landed", other.uri())),
        )
        .mount(&first)
        .await;
    let t = common::engine().await;
    let options = r#"      method: POST
      json: { ip: 203.0.113.7 }
      headers: { Authorization: "Bearer s3cr3t", Cookie: "session=s3cr3t", X-Apikey: s3cr3t, Accept: application/json }"#;
    let run = call(&t, &format!("{}/same", first.uri()), options).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let seen = first.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.headers["authorization"], "Bearer s3cr3t");
        assert_eq!(request.headers["x-apikey"], "s3cr3t");
    }
    let landed = other.received_requests().await.unwrap();
    assert_eq!(landed.len(), 1);
    let request = &landed[0];
    for header in ["authorization", "cookie", "x-apikey"] {
        assert!(
            !request.headers.contains_key(header),
            "`{header}` crossed origins"
        );
    }
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.headers.contains_key("idempotency-key"));
    // 307 keeps the method and the body.
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
        json!({"ip": "203.0.113.7"})
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_transient_dns_error() {
    let t = common::engine().await;
    let (class, reason) = failure(&call(&t, "https://no-such-host.invalid/api", "").await);
    assert_eq!(class, "transient");
    assert!(
        reason.contains("cannot resolve the host name `no-such-host.invalid`"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_tls_failure_is_a_permanent_error_that_names_the_host() {
    // Speaking TLS to a plain-HTTP server fails the handshake.
    let server = MockServer::start().await;
    let url = format!("https://127.0.0.1:{}/", server.address().port());
    let t = common::engine().await;
    let (class, reason) = failure(&call(&t, &url, "").await);
    assert_eq!(class, "permanent");
    assert!(reason.contains("TLS"), "{reason}");
    assert!(reason.contains("127.0.0.1"), "{reason}");
}

#[tokio::test]
async fn only_http_and_https_urls_load() {
    let t = common::engine().await;
    let error = t
        .engine
        .install("test.yaml", &playbook("file:///etc/passwd", ""))
        .await
        .err()
        .expect("a file URL does not load");
    assert!(
        format!("{error:?}").contains("only http and https"),
        "{error:?}"
    );
}
