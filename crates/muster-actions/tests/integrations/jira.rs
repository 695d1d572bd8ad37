//! Jira Cloud REST API v3: basic auth with an email and an API token, `POST
//! /rest/api/3/issue` with Atlassian Document Format, comments, transitions (204 No
//! Content), `{"errorMessages": [], "errors": {}}` refusals.

use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const EMAIL: &str = "soc-bot@example.com";
const TOKEN: &str = "ATATT3xFfGF0-jira-api-token";

fn basic() -> String {
    let pair = format!("{EMAIL}:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(
        &t,
        "jira",
        json!({"type": "basic", "username": EMAIL, "password": TOKEN}),
    )
    .await;
    t
}

fn adf(text: &str) -> serde_json::Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

#[tokio::test]
async fn create_issue_sends_basic_auth_and_atlassian_document_format() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .and(header("Authorization", basic().as_str()))
        .and(header("Accept", "application/json"))
        .and(body_json(json!({"fields": {
            "project": {"key": "SEC"},
            "summary": "Phishing reported by alice@example.com",
            "issuetype": {"name": "Incident"},
            "labels": ["phishing"],
            "description": adf("Three recipients clicked."),
            "priority": {"name": "High"},
            "customfield_10042": "T1566"
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "10042", "key": "SEC-42",
            "self": format!("{}/rest/api/3/issue/10042", "https://example.atlassian.net")
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "jira.create_issue",
        &format!(
            "{}\n      project: SEC\n      summary: \"Phishing reported by {{{{ start.reporter }}}}\"\n      issue_type: Incident\n      labels: [phishing]\n      description: Three recipients clicked.\n      priority: High\n      fields: {{ customfield_10042: T1566 }}",
            base_url(&server, "")
        ),
        json!({"reporter": "alice@example.com"}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["key"], "SEC-42");
    assert_eq!(out["url"], format!("{}/browse/SEC-42", server.uri()));
}

#[tokio::test]
async fn optional_fields_are_left_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue"))
        .and(body_json(json!({"fields": {
            "project": {"key": "SEC"}, "summary": "Alert", "issuetype": {"name": "Task"}, "labels": []
        }})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "10043", "key": "SEC-43", "self": "https://example.atlassian.net/rest/api/3/issue/10043"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "jira.create_issue",
        &format!(
            "{}\n      project: SEC\n      summary: Alert",
            base_url(&server, "")
        ),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["key"], "SEC-43");
}

#[tokio::test]
async fn comment_and_transition() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/SEC-42/comment"))
        .and(header("Authorization", basic().as_str()))
        .and(body_json(json!({"body": adf("Sender blocked.")})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "10100", "created": "2024-06-01T12:00:00.000+0000",
            "self": "https://example.atlassian.net/rest/api/3/issue/10042/comment/10100",
            "body": adf("Sender blocked.")
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/issue/SEC-42/transitions"))
        .and(header("Authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "expand": "transitions",
            "transitions": [
                {"id": "21", "name": "In Progress", "to": {"name": "In Progress", "id": "3"}},
                {"id": "31", "name": "Done", "to": {"name": "Done", "id": "10001"}}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/SEC-42/transitions"))
        .and(header("Authorization", basic().as_str()))
        .and(body_json(
            json!({"transition": {"id": "31"}, "fields": {"resolution": {"name": "Done"}}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let base = base_url(&server, "");
    let (run, events) = call(
        &t,
        "jira.comment",
        &format!("{base}\n      issue: SEC-42\n      text: Sender blocked."),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["id"], "10100");
    let (run, events) = call(
        &t,
        "jira.transitions",
        &format!("{base}\n      issue: SEC-42"),
        json!({}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(out["names"], json!(["In Progress", "Done"]));
    let (run, events) = call(
        &t,
        "jira.transition",
        &format!(
            "{base}\n      issue: SEC-42\n      transition: \"31\"\n      fields: {{ resolution: {{ name: Done }} }}"
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&run, &events),
        json!({"issue": "SEC-42", "transition": "31"})
    );
}

#[tokio::test]
async fn a_refused_issue_fails_with_jiras_messages() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errorMessages": [],
            "errors": {"issuetype": "Specify a valid issue type"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "jira.create_issue",
        &format!(
            "{}\n      project: SEC\n      summary: Alert\n      issue_type: Nope",
            base_url(&server, "")
        ),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(
        reason,
        "action `call` failed: HTTP 400 Bad Request: Specify a valid issue type"
    );
}

#[tokio::test]
async fn a_missing_issue_is_a_permanent_404() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "jira.comment",
        &format!(
            "{}\n      issue: SEC-999\n      text: hi",
            base_url(&server, "")
        ),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.ends_with(
            "HTTP 404 Not Found: Issue does not exist or you do not have permission to see it."
        ),
        "{reason}"
    );
}

#[tokio::test]
async fn without_a_base_url_the_playbook_does_not_load() {
    let t = engine().await;
    let yaml = support::playbook("jira.comment", "      issue: SEC-1\n      text: hi");
    let error = match t.engine.install("test.yaml", &yaml).await {
        Err(muster_engine::EngineError::Invalid(diagnostics)) => diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a jira action without base_url loaded"),
    };
    assert!(
        error.contains("missing required option `base_url`"),
        "{error}"
    );
}
