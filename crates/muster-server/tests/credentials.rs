//! Credential routes: values go in and never come out, replace and rotate keep what they
//! should, unknown names answer 404, invalid input a clear 4xx — and a stored credential
//! is what a run sends.

mod common;

use common::{Server, json};
use muster_store::RunStatus;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_V1: &str = "vt-key-6c1f9a2e4d";
const TOKEN_V2: &str = "vt-key-0b7d3e8a51";
const PASSWORD: &str = "jira-pw-93kd71";
const HEADER_VALUE: &str = "hdr-val-55ae0c";
const SECRETS: [&str; 4] = [TOKEN_V1, TOKEN_V2, PASSWORD, HEADER_VALUE];

/// Every answer's text, to check at the end that no value came back.
#[derive(Default)]
struct Answers(Vec<String>);

impl Answers {
    async fn take(&mut self, response: Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        self.0.push(format!("{location:?} {text}"));
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        (status, body)
    }

    fn assert_no_secret(&self) {
        for text in &self.0 {
            for secret in SECRETS {
                assert!(!text.contains(secret), "a value came back: {text}");
            }
        }
    }
}

async fn send(server: &Server, method: Method, path: &str, body: Option<Value>) -> Response {
    let request = server.api(method, path);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn values_are_never_returned_and_replace_keeps_the_creation_time() {
    let server = common::start().await;
    let mut answers = Answers::default();
    let created = send(
        &server,
        Method::POST,
        "/api/v1/credentials",
        Some(json!({
            "name": "vt", "type": "text", "value": TOKEN_V1,
            "allowed_domains": ["www.virustotal.com"], "description": "VirusTotal API key"
        })),
    )
    .await;
    assert_eq!(
        created.headers()["location"].to_str().unwrap(),
        "/api/v1/credentials/vt"
    );
    let (status, body) = answers.take(created).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "vt");
    assert_eq!(body["type"], "text");
    assert_eq!(body["allowed_domains"], json!(["www.virustotal.com"]));
    assert_eq!(body["description"], "VirusTotal API key");
    assert!(body["rotated_at"].is_null());
    assert!(body.get("value").is_none(), "{body}");
    let created_at = body["created_at"].clone();

    // The type's fields flat, and the fields inside `value` (the way for `header`).
    let (status, body) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials",
                Some(json!({
                    "name": "jira", "type": "basic", "username": "svc-muster",
                    "password": PASSWORD, "allowed_domains": ["*.atlassian.net"]
                })),
            )
            .await,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["type"], "basic");
    let (status, body) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials",
                Some(json!({
                    "name": "abuse", "type": "header",
                    "value": {"name": "Key", "value": HEADER_VALUE},
                    "allowed_domains": ["api.abuseipdb.com"]
                })),
            )
            .await,
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, list) = answers
        .take(send(&server, Method::GET, "/api/v1/credentials", None).await)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 3);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["abuse", "jira", "vt"]);

    // Replacing: 200, new type and domains, same creation time.
    let (status, body) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials",
                Some(json!({
                    "name": "vt", "type": "header",
                    "value": {"name": "x-apikey", "value": TOKEN_V2},
                    "allowed_domains": ["www.virustotal.com", "*.virustotal.com"]
                })),
            )
            .await,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "header");
    assert_eq!(body["created_at"], created_at);
    assert!(body["description"].is_null());
    let (status, body) = answers
        .take(send(&server, Method::GET, "/api/v1/credentials/vt", None).await)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["allowed_domains"],
        json!(["www.virustotal.com", "*.virustotal.com"])
    );

    let (status, _) = answers
        .take(send(&server, Method::DELETE, "/api/v1/credentials/vt", None).await)
        .await;
    assert_eq!(status, 204);
    let (status, body) = answers
        .take(send(&server, Method::GET, "/api/v1/credentials/vt", None).await)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "credential `vt` not found");
    answers.assert_no_secret();

    // The database holds them sealed.
    let db = std::fs::read(server.engine.dir.path().join("muster.db")).unwrap_or_default();
    let wal = std::fs::read(server.engine.dir.path().join("muster.db-wal")).unwrap_or_default();
    for secret in SECRETS {
        for file in [&db, &wal] {
            assert!(
                !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in the database in the clear"
            );
        }
    }
}

#[tokio::test]
async fn unknown_names_answer_404() {
    let server = common::start().await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/credentials/nope", None),
        (Method::DELETE, "/api/v1/credentials/nope", None),
        (
            Method::POST,
            "/api/v1/credentials/nope/rotate",
            Some(json!({"value": TOKEN_V1})),
        ),
    ] {
        let (status, body) = json(send(&server, method.clone(), path, body).await).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["message"], "credential `nope` not found");
    }
}

#[tokio::test]
async fn invalid_credentials_are_refused_with_a_clear_message() {
    let server = common::start().await;
    let mut answers = Answers::default();
    let cases = [
        (
            json!({"name": "x", "type": "ssh", "value": TOKEN_V1, "allowed_domains": ["a.example"]}),
            422,
            "unknown credential type `ssh`; use one of text, basic, header, oauth2_client_credentials, http_token, jwt",
        ),
        (
            json!({"name": "x", "type": "basic", "username": "u", "allowed_domains": ["a.example"]}),
            422,
            "missing field `password`",
        ),
        (
            json!({"name": "x", "type": "text", "value": TOKEN_V1, "pasword": "p", "allowed_domains": ["a.example"]}),
            422,
            "unknown field `pasword`",
        ),
        (
            json!({"name": "x", "type": "text", "value": TOKEN_V1}),
            422,
            "needs at least one allowed domain",
        ),
        (
            json!({"name": "x", "type": "text", "value": TOKEN_V1, "allowed_domains": ["https://a.example/"]}),
            422,
            "is not a host name",
        ),
        (
            json!({"name": "no spaces", "type": "text", "value": TOKEN_V1, "allowed_domains": ["a.example"]}),
            422,
            "not a valid credential name",
        ),
        (
            json!({"name": "x", "value": TOKEN_V1, "allowed_domains": ["a.example"]}),
            422,
            "needs a `type`",
        ),
        (
            json!({"type": "text", "value": TOKEN_V1, "allowed_domains": ["a.example"]}),
            400,
            "needs a `name`",
        ),
        (
            json!({"name": "x", "type": "text", "value": TOKEN_V1, "allowed_domains": "a.example"}),
            400,
            "`allowed_domains` must be a list",
        ),
        (json!([TOKEN_V1]), 400, "must be a JSON object"),
    ];
    for (body, expected, message) in cases {
        let (status, answer) = answers
            .take(
                send(
                    &server,
                    Method::POST,
                    "/api/v1/credentials",
                    Some(body.clone()),
                )
                .await,
            )
            .await;
        assert_eq!(status, expected, "{body}: {answer}");
        let text = answer["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
        let code = if expected == 422 {
            "invalid_credential"
        } else {
            "bad_request"
        };
        assert_eq!(answer["code"], code, "{answer}");
    }

    // A value of the wrong JSON type is named by its kind, never quoted.
    let (status, answer) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials",
                Some(json!({
                    "name": "x", "type": "basic", "username": "u",
                    "password": 93_817_264_u64, "allowed_domains": ["a.example"]
                })),
            )
            .await,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("integer, expected a string"), "{message}");
    assert!(!message.contains("93817264"), "{message}");

    let response = server
        .api(Method::POST, "/api/v1/credentials")
        .header("content-type", "text/plain")
        .body(TOKEN_V1)
        .send()
        .await
        .unwrap();
    let (status, _) = answers.take(response).await;
    assert_eq!(status, 415);
    let response = server
        .api(Method::POST, "/api/v1/credentials")
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"x\", \"value\": \"{TOKEN_V1}\""))
        .send()
        .await
        .unwrap();
    let (status, _) = answers.take(response).await;
    assert_eq!(status, 400);

    let (_, list) = answers
        .take(send(&server, Method::GET, "/api/v1/credentials", None).await)
        .await;
    assert_eq!(list["total"], 0, "nothing was stored: {list}");
    answers.assert_no_secret();
}

fn playbook(mock: &MockServer) -> String {
    format!(
        r#"
name: lookup
actions:
  - id: start
    type: manual
  - id: call
    type: http_request
    options:
      url: "{}/lookup"
      headers: {{ x-apikey: "{{{{ credentials.vt }}}}" }}
links: [start -> call]
"#,
        mock.uri()
    )
}

async fn keys_seen(mock: &MockServer) -> Vec<String> {
    mock.received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["x-apikey"].to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn rotation_replaces_the_value_runs_send_and_keeps_the_rest() {
    let server = common::start().await;
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/lookup"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&mock)
        .await;
    let mut answers = Answers::default();
    let (status, created) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials",
                Some(json!({
                    "name": "vt", "type": "text", "value": TOKEN_V1,
                    "allowed_domains": ["127.0.0.1"], "description": "lookups"
                })),
            )
            .await,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    server.install(&playbook(&mock)).await;
    let run = server.start_run("lookup", json!({})).await;
    assert_eq!(server.finish(run).await.status, RunStatus::Succeeded);
    assert_eq!(keys_seen(&mock).await, [TOKEN_V1]);

    // The type is the current one unless given.
    let (status, rotated) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials/vt/rotate",
                Some(json!({"value": TOKEN_V2})),
            )
            .await,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(rotated["allowed_domains"], json!(["127.0.0.1"]));
    assert_eq!(rotated["description"], "lookups");
    assert_eq!(rotated["type"], "text");
    assert_eq!(rotated["created_at"], created["created_at"]);
    assert!(rotated["rotated_at"].is_string(), "{rotated}");
    let run = server.start_run("lookup", json!({})).await;
    assert_eq!(server.finish(run).await.status, RunStatus::Succeeded);
    assert_eq!(keys_seen(&mock).await, [TOKEN_V1, TOKEN_V2]);

    // A rotation changes the value only.
    for (body, message) in [
        (
            json!({"value": TOKEN_V1, "allowed_domains": ["evil.example"]}),
            "`allowed_domains` is kept",
        ),
        (
            json!({"value": TOKEN_V1, "description": "x"}),
            "`description` is kept",
        ),
    ] {
        let (status, answer) = answers
            .take(
                send(
                    &server,
                    Method::POST,
                    "/api/v1/credentials/vt/rotate",
                    Some(body),
                )
                .await,
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{answer}"
        );
    }
    let (status, answer) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials/vt/rotate",
                Some(json!({"type": "basic", "value": TOKEN_V1})),
            )
            .await,
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let run = server.start_run("lookup", json!({})).await;
    assert_eq!(server.finish(run).await.status, RunStatus::Succeeded);
    assert_eq!(keys_seen(&mock).await, [TOKEN_V1, TOKEN_V2, TOKEN_V2]);

    // Rotating into another type, with a header credential's `name` beside its value.
    let (status, rotated) = answers
        .take(
            send(
                &server,
                Method::POST,
                "/api/v1/credentials/vt/rotate",
                Some(json!({"type": "header", "name": "x-apikey", "value": TOKEN_V1})),
            )
            .await,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(rotated["type"], "header");
    assert_eq!(rotated["allowed_domains"], json!(["127.0.0.1"]));
    answers.assert_no_secret();
}
