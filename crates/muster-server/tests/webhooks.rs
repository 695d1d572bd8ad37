//! Webhooks end to end: secrets, HMAC signatures, methods, body limits, body parsing (JSON,
//! malformed JSON, raw email in any charset), the trigger event's shape, and the `exit`
//! response mode.

mod common;

use common::{Server, json, start};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

const GUARDED: &str = "
name: guarded
actions:
  - id: alert
    type: webhook
    options:
      path: siem/alerts
      secret: s3cret
      max_body: 1024
  - id: note
    type: set
    options: { seen: true }
links: [alert -> note]
";

const SIGNED: &str = "
name: signed
actions:
  - id: push
    type: webhook
    options:
      path: github
      methods: [POST, PUT]
      signature: { header: X-Hub-Signature-256, secret: hmac-key, prefix: \"sha256=\" }
";

const OPEN: &str = "
name: open
actions:
  - id: hook
    type: webhook
    options: { path: open/inbox, methods: [GET, POST] }
";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(b"hmac-key").unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The trigger event of the run a webhook answer names.
async fn trigger_event(server: &Server, answer: &Value) -> Value {
    let run = answer["run_id"].as_str().expect("a run id");
    let (status, detail) = json(
        server
            .api(Method::GET, &format!("/api/v1/runs/{run}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    detail["events"][0]["output"].clone()
}

async fn run_count(server: &Server) -> u64 {
    let (_, list) = json(
        server
            .api(Method::GET, "/api/v1/runs")
            .send()
            .await
            .unwrap(),
    )
    .await;
    list["total"].as_u64().unwrap()
}

#[tokio::test]
async fn the_secret_is_required_and_the_event_keeps_no_credentials() {
    let server = start().await;
    server.install(GUARDED).await;
    let url = server.url("/hooks/siem/alerts");

    let (status, body) = json(
        server
            .client
            .post(&url)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = json(
        server
            .client
            .post(&url)
            .header("x-muster-secret", "wrong")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = json(
        server
            .client
            .post(&url)
            .bearer_auth("s3cre")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(run_count(&server).await, 0);

    let response = server
        .client
        .post(format!("{url}?source=splunk&severity=high"))
        .header("X-Muster-Secret", "s3cret")
        .header("X-Alert-Id", "A-17")
        .header("Cookie", "session=abc")
        .json(&json!({"src_ip": "203.0.113.7", "count": 12}))
        .send()
        .await
        .unwrap();
    let run_header = response.headers()["x-muster-run-id"]
        .to_str()
        .unwrap()
        .to_string();
    let (status, answer) = json(response).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["run_id"], run_header.as_str());
    let event = trigger_event(&server, &answer).await;
    assert_eq!(event["method"], "POST");
    assert_eq!(event["path"], "siem/alerts");
    assert_eq!(
        event["query"],
        json!({"source": "splunk", "severity": "high"})
    );
    assert_eq!(event["body"], json!({"src_ip": "203.0.113.7", "count": 12}));
    let headers = event["headers"].as_object().unwrap();
    assert_eq!(headers["x-alert-id"], "A-17");
    assert!(
        headers["content-type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    for dropped in ["x-muster-secret", "cookie", "authorization"] {
        assert!(
            !headers.contains_key(dropped),
            "{dropped} was kept: {event}"
        );
    }
    assert!(headers.keys().all(|k| k == &k.to_lowercase()));

    // The bearer form of the secret works too, and is not stored either.
    let (status, answer) = json(
        server
            .client
            .post(&url)
            .bearer_auth("s3cret")
            .json(&json!({"n": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let event = trigger_event(&server, &answer).await;
    assert!(event["headers"].get("authorization").is_none(), "{event}");
}

#[tokio::test]
async fn signatures_are_verified_over_the_exact_body() {
    let server = start().await;
    server.install(SIGNED).await;
    let url = server.url("/hooks/github");
    let body = br#"{"action": "opened", "number": 7}"#.to_vec();

    let (status, _) = json(
        server
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    let (status, answer) = json(
        server
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(b"{\"action\": \"closed\"}"))
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("X-Hub-Signature-256"),
        "{answer}"
    );

    let unprefixed = sign(&body).trim_start_matches("sha256=").to_string();
    let (status, _) = json(
        server
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", unprefixed)
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(run_count(&server).await, 0);

    let (status, answer) = json(
        server
            .client
            .put(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(&body))
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let event = trigger_event(&server, &answer).await;
    assert_eq!(event["method"], "PUT");
    assert_eq!(event["body"], json!({"action": "opened", "number": 7}));
}

#[tokio::test]
async fn methods_outside_the_trigger_s_list_are_refused() {
    let server = start().await;
    server.install(GUARDED).await;
    server.install(OPEN).await;

    let response = server
        .client
        .get(server.url("/hooks/siem/alerts"))
        .header("x-muster-secret", "s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    let (status, body) = json(response).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");

    let (status, _) = json(
        server
            .client
            .delete(server.url("/hooks/open/inbox"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 405);

    let (status, answer) = json(
        server
            .client
            .get(server.url("/hooks/open/inbox?ticket=42"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let event = trigger_event(&server, &answer).await;
    assert_eq!(event["method"], "GET");
    assert_eq!(event["query"], json!({"ticket": "42"}));
    assert_eq!(event["body"], Value::Null);

    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/no/such/path"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn oversized_malformed_and_binary_bodies_start_nothing() {
    let server = start().await;
    server.install(GUARDED).await;
    server.install(OPEN).await;
    let url = server.url("/hooks/siem/alerts");

    let large = json!({"padding": "x".repeat(4096)});
    let (status, body) = json(
        server
            .client
            .post(&url)
            .header("x-muster-secret", "s3cret")
            .json(&large)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert!(body["message"].as_str().unwrap().contains("1024"), "{body}");

    let (status, body) = json(
        server
            .client
            .post(&url)
            .header("x-muster-secret", "s3cret")
            .header("content-type", "application/json")
            .body("{\"src_ip\": \"203.0.113.7\",\n \"count\": }")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("line 2 column"), "{message}");

    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/open/inbox"))
            .header("content-type", "application/octet-stream")
            .body(vec![0xff_u8, 0xfe, 0x00, 0x01])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("UTF-8"),
        "{body}"
    );

    assert_eq!(run_count(&server).await, 0);
}

#[tokio::test]
async fn a_raw_email_is_kept_as_text_and_parsed() {
    let server = start().await;
    server.install(OPEN).await;
    let email = "From: Mallory <mallory@evil.example>\r\nTo: soc@example.com\r\nSubject: Invoice\r\n\r\nPay at hxxp://evil[.]example/pay\r\n";
    let (status, answer) = json(
        server
            .client
            .post(server.url("/hooks/open/inbox"))
            .header("content-type", "message/rfc822")
            .body(email)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let event = trigger_event(&server, &answer).await;
    assert_eq!(event["body"], email);
    assert_eq!(event["body_encoding"], "text");
    assert_eq!(event["headers"]["content-type"], "message/rfc822");
    assert_eq!(event["email"]["subject"], "Invoice");
    assert_eq!(event["email"]["from"]["address"], "mallory@evil.example");
}

/// A real reported phish in ISO-8859-1 with 8-bit text: not UTF-8, accepted all the same.
const LATIN1_EML: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../muster-intel/tests/emails/06_iso_8859_1_body.eml"
));

#[tokio::test]
async fn a_posted_eml_in_another_charset_is_parsed_and_kept_as_base64() {
    let server = start().await;
    server.install(OPEN).await;
    let (status, answer) = json(
        server
            .client
            .post(server.url("/hooks/open/inbox"))
            .header("content-type", "message/rfc822")
            .body(LATIN1_EML)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let event = trigger_event(&server, &answer).await;
    assert_eq!(event["body_encoding"], "base64");
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD
        .decode(event["body"].as_str().unwrap())
        .unwrap();
    assert_eq!(body, LATIN1_EML, "the message is kept byte for byte");
    let email = &event["email"];
    assert_eq!(email["subject"], "Votre colis est bloqué");
    assert_eq!(email["message_id"], "colis-552981@colis-suivi-fr.top");
    assert!(
        email["text_body"]
            .as_str()
            .unwrap()
            .contains("réexpédition"),
        "{email}"
    );
    assert!(
        email["urls"]
            .as_array()
            .unwrap()
            .contains(&json!("http://colis-suivi-fr.top/paiement?ref=FR552981")),
        "{email}"
    );
}

#[tokio::test]
async fn a_disabled_playbook_s_webhook_answers_409() {
    let server = start().await;
    server.install(OPEN).await;
    let (status, _) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/open/disable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/open/inbox"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "playbook_disabled");
    assert_eq!(run_count(&server).await, 0);
}

#[tokio::test]
async fn response_exit_answers_with_the_exit_output() {
    let server = start().await;
    server
        .install(
            "
name: verdict
actions:
  - id: ask
    type: webhook
    options: { path: verdict, response: exit }
  - id: decide
    type: set
    options:
      ip: \"{{ ask.body.ip }}\"
      verdict: \"{{ 'block' if ask.body.score > 50 else 'allow' }}\"
  - id: done
    type: exit
    options: { output: { ip: \"{{ decide.ip }}\", verdict: \"{{ decide.verdict }}\" } }
links: [ask -> decide, decide -> done]
",
        )
        .await;
    let response = server
        .client
        .post(server.url("/hooks/verdict"))
        .json(&json!({"ip": "203.0.113.7", "score": 87}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-muster-run-id"));
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"ip": "203.0.113.7", "verdict": "block"}));
}

#[tokio::test]
async fn response_exit_reports_runs_without_output_failures_and_timeouts() {
    let server = start().await;
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    server
        .install(&format!(
            "
name: sync_hooks
actions:
  - id: quiet
    type: webhook
    options: {{ path: sync/quiet, response: exit }}
  - id: broken
    type: webhook
    options: {{ path: sync/broken, response: exit }}
  - id: slow
    type: webhook
    options: {{ path: sync/slow, response: exit, response_timeout: 200ms }}
  - id: note
    type: set
    options: {{ seen: true }}
  - id: call
    type: http_request
    options: {{ url: \"http://127.0.0.1:{port}/down\" }}
    retry: {{ attempts: 1 }}
  - id: wait
    type: delay
    options: {{ duration: 1h }}
links: [quiet -> note, broken -> call, slow -> wait]
"
        ))
        .await;

    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/sync/quiet"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "succeeded");
    assert!(body["run_id"].is_string());

    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/sync/broken"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "run_failed");
    assert!(body["message"].as_str().unwrap().contains("call"), "{body}");
    let run: muster_model::RunId = body["run_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(server.finish(run).await.status.as_str(), "failed");

    let (status, body) = json(
        server
            .client
            .post(server.url("/hooks/sync/slow"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "running");
    assert!(body["run_id"].is_string());
}

#[tokio::test]
async fn a_repeated_idempotency_key_starts_no_second_run() {
    let server = start().await;
    server.install(OPEN).await;
    let send = |key: &'static str| {
        server
            .client
            .post(server.url("/hooks/open/inbox"))
            .header("idempotency-key", key)
            .json(&json!({"alert": 17}))
            .send()
    };
    let (status, first) = json(send("alert-17").await.unwrap()).await;
    assert_eq!(status, 202, "{first}");
    let response = send("alert-17").await.unwrap();
    assert_eq!(
        response.headers()["x-muster-run-id"],
        first["run_id"].as_str().unwrap()
    );
    let (status, again) = json(response).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, json!({"run_id": first["run_id"], "duplicate": true}));
    assert_eq!(run_count(&server).await, 1);

    let (status, other) = json(send("alert-18").await.unwrap()).await;
    assert_eq!(status, 202, "{other}");
    assert_ne!(other["run_id"], first["run_id"]);
    assert_eq!(run_count(&server).await, 2);
}
