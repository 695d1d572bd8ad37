//! Credentials in `http_request` against real HTTP servers on loopback: references revealed
//! only toward allowed domains, typed auth (basic, OAuth 2.0 client credentials with refresh,
//! login tokens, JWT), redaction of what the run records, and resources.

mod common;

use base64::Engine as _;
use muster_store::{RunStatus, Store};
use muster_testkit::{TestEngine, outputs_of};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "vt-s3cret-4pi-key";

fn lookup(url: &str, request: &str) -> String {
    format!(
        r#"
name: lookup
actions:
  - id: start
    type: manual
  - id: call
    type: http_request
    options:
      url: "{url}"
{request}
links: [start -> call]
"#
    )
}

/// An OAuth 2.0 client credential `defender` whose token endpoint is `server`'s.
async fn set_defender(t: &TestEngine, server: &MockServer) {
    t.set_credential(
        "defender",
        json!({
            "type": "oauth2_client_credentials",
            "token_url": format!("{}/oauth2/token", server.uri()),
            "client_id": "muster",
            "client_secret": "cl1ent-s3cret",
            "scope": "alerts.read"
        }),
        &["127.0.0.1"],
    )
    .await;
}

/// Every text the run recorded: events, error and reason.
async fn recorded(t: &TestEngine, run: &muster_store::RunRecord) -> String {
    let events = t.store.run_events(run.id).await.unwrap();
    format!(
        "{} {:?} {:?} {:?}",
        serde_json::to_string(&events.iter().map(|e| &e.output).collect::<Vec<_>>()).unwrap(),
        run.error,
        run.reason,
        run.output
    )
}

/// Answers with the request's headers and query, like an echo service.
fn echo(request: &Request) -> ResponseTemplate {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "headers": headers,
        "query": request.url.query().unwrap_or_default(),
    }))
}

#[tokio::test]
async fn a_reference_is_sent_to_an_allowed_host_and_redacted_in_the_run() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v3/ip_addresses/203.0.113.7"))
        .and(header("x-apikey", SECRET))
        .and(query_param("key", SECRET))
        .respond_with(echo)
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_credential(
        "virustotal",
        json!({"type": "text", "value": SECRET}),
        &["127.0.0.1"],
    )
    .await;
    let url = format!("{}/api/v3/ip_addresses/203.0.113.7", server.uri());
    t.install(&lookup(
        &url,
        "      headers: { x-apikey: \"{{ credentials.virustotal }}\" }\n      query: { key: \"{{ credentials.virustotal }}\" }",
    ))
    .await;
    let (run, events) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let output = outputs_of(&events, "call")[0];
    assert_eq!(
        output["body"]["headers"]["x-apikey"],
        "[redacted:virustotal]"
    );
    assert_eq!(output["body"]["query"], "key=[redacted:virustotal]");
    assert!(!recorded(&t, &run).await.contains(SECRET));
}

#[tokio::test]
async fn a_host_outside_the_allowed_domains_gets_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_credential(
        "virustotal",
        json!({"type": "text", "value": SECRET}),
        &["*.virustotal.com"],
    )
    .await;
    t.install(&lookup(
        &server.uri(),
        "      headers: { x-apikey: \"{{ credentials.virustotal }}\" }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap().to_string();
    assert!(
        error.contains("credential `virustotal` may not be sent to `127.0.0.1`"),
        "{error}"
    );
    assert!(!error.contains(SECRET));
}

#[tokio::test]
async fn a_redirect_that_would_carry_a_secret_elsewhere_is_refused() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    // 307 keeps the method and the body, which carries the secret.
    let target = format!("http://localhost:{}/collect", elsewhere.address().port());
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", target.as_str()))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_credential(
        "siem",
        json!({"type": "text", "value": SECRET}),
        &["127.0.0.1"],
    )
    .await;
    t.install(&lookup(
        &server.uri(),
        "      method: POST\n      json: { token: \"{{ credentials.siem }}\" }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap().to_string();
    assert!(
        error.contains("credential `siem` may not be sent to `localhost`"),
        "{error}"
    );
}

#[tokio::test]
async fn unknown_credentials_and_fields_fail_clearly() {
    let server = MockServer::start().await;
    let t = common::engine().await;
    t.set_credential(
        "jira",
        json!({"type": "basic", "username": "svc@example.com", "password": "j1ra-api-t0ken"}),
        &["127.0.0.1"],
    )
    .await;
    for (header_value, expected) in [
        ("{{ credentials.nope }}", "credential `nope` does not exist"),
        (
            "{{ credentials.jira.token }}",
            "credential `jira` (basic) has no field `token`; its fields are username, password",
        ),
    ] {
        t.install(&lookup(
            &server.uri(),
            &format!("      headers: {{ x-key: \"{header_value}\" }}"),
        ))
        .await;
        let (run, _) = t.run("lookup", json!({})).await;
        assert_eq!(run.status, RunStatus::Failed);
        let error = run.error.unwrap().to_string();
        assert!(error.contains(expected), "{error}");
    }
}

#[tokio::test]
async fn basic_auth_and_fields_of_a_typed_credential() {
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode("svc@example.com:j1ra-api-t0ken");
    Mock::given(method("GET"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .and(header("x-user", "svc@example.com"))
        .respond_with(echo)
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_credential(
        "jira",
        json!({"type": "basic", "username": "svc@example.com", "password": "j1ra-api-t0ken"}),
        &["127.0.0.1"],
    )
    .await;
    t.install(&lookup(
        &server.uri(),
        "      auth: credentials.jira\n      headers: { x-user: \"{{ credentials.jira.username }}\" }",
    ))
    .await;
    let (run, events) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let output = outputs_of(&events, "call")[0];
    assert_eq!(
        output["body"]["headers"]["authorization"],
        "Basic [redacted:jira]"
    );
    assert!(!recorded(&t, &run).await.contains("j1ra-api-t0ken"));
}

#[tokio::test]
async fn oauth2_tokens_are_cached_and_refreshed_once_after_a_401() {
    let server = MockServer::start().await;
    let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = issued.clone();
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_secret=cl1ent-s3cret"))
        .respond_with(move |_: &Request| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(
                json!({"access_token": format!("access-token-{n}"), "token_type": "Bearer", "expires_in": 3600}),
            )
        })
        .mount(&server)
        .await;
    // The first token is revoked: the API answers 401 to it, once.
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .and(header("authorization", "Bearer access-token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .and(header("authorization", "Bearer access-token-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"alerts": []})))
        .expect(2)
        .mount(&server)
        .await;
    let t = common::engine().await;
    set_defender(&t, &server).await;
    t.install(&lookup(
        &format!("{}/api/alerts", server.uri()),
        "      auth: credentials.defender",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        issued.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one token, one refresh, then the cache"
    );
}

#[tokio::test]
async fn a_rejected_client_secret_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "bad secret cl1ent-s3cret"}),
        ))
        .mount(&server)
        .await;
    let t = common::engine().await;
    set_defender(&t, &server).await;
    t.install(&lookup(&server.uri(), "      auth: credentials.defender"))
        .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap().to_string();
    assert!(
        error.contains("credential `defender`: getting a token failed: the token endpoint answered 401 Unauthorized (invalid_client: bad secret [redacted:defender])"),
        "{error}"
    );
}

#[tokio::test]
async fn login_tokens_and_jwts_are_sent_in_their_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .and(body_string_contains("p4ssw0rd-login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"token": "sess-10gin-token"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/firewall"))
        .and(header("x-auth-token", "sess-10gin-token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/signed"))
        .respond_with(echo)
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_credential(
        "firewall",
        json!({
            "type": "http_token",
            "url": format!("{}/login", server.uri()),
            "json": {"user": "api", "password": "p4ssw0rd-login"},
            "token_path": "body.data.token",
            "header": "X-Auth-Token",
            "prefix": ""
        }),
        &["127.0.0.1"],
    )
    .await;
    t.set_credential(
        "signer",
        json!({"type": "jwt", "key": "jwt-hm4c-key", "claims": {"iss": "muster"}}),
        &["127.0.0.1"],
    )
    .await;
    t.install(&lookup(
        &format!("{}/firewall", server.uri()),
        "      auth: credentials.firewall",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    t.install(&lookup(
        &format!("{}/signed", server.uri()),
        "      auth: credentials.signer",
    ))
    .await;
    let (run, events) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let received = server.received_requests().await.unwrap();
    let signed = received.iter().find(|r| r.url.path() == "/signed").unwrap();
    let token = signed.headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_string();
    let claims = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "muster");
    let output = outputs_of(&events, "call")[0];
    assert_eq!(
        output["body"]["headers"]["authorization"],
        "Bearer [redacted:signer]"
    );
}

#[tokio::test]
async fn resources_are_readable_in_expressions() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("team", "soc-tier2@example.com"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let t = common::engine().await;
    t.set_resource(
        "escalation",
        json!({"team": "soc-tier2@example.com", "threshold": 80}),
    )
    .await;
    t.install(&lookup(
        &server.uri(),
        "      query: { team: \"{{ resources.escalation.team }}\" }",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
}

#[tokio::test]
async fn a_reference_copied_into_an_output_is_redacted() {
    let t = common::engine().await;
    t.set_credential(
        "api",
        json!({"type": "text", "value": SECRET}),
        &["127.0.0.1"],
    )
    .await;
    t.install(
        r#"
name: leak
actions:
  - id: start
    type: manual
  - id: copy
    type: set
    options: { header: "Bearer {{ credentials.api }}" }
links: [start -> copy]
"#,
    )
    .await;
    let (run, events) = t.run("leak", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        outputs_of(&events, "copy")[0]["header"],
        "Bearer [redacted:api]"
    );
}

#[tokio::test]
async fn a_token_refused_twice_is_a_clear_error_after_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "t0ken-without-rights", "expires_in": 3600})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/alerts"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let t = common::engine().await;
    set_defender(&t, &server).await;
    t.install(&lookup(
        &format!("{}/api/alerts", server.uri()),
        "      auth: credentials.defender",
    ))
    .await;
    let (run, _) = t.run("lookup", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap().to_string();
    assert!(
        error.contains("401") && error.contains("also with a new token from credential `defender`"),
        "{error}"
    );
    assert!(!error.contains("t0ken-without-rights"), "{error}");
}
