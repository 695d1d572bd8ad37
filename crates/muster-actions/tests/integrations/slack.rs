//! Slack: `chat.postMessage` with a bearer token and a JSON body, `{"ok": false, "error"}`
//! refusals that come with 200, 429 with `Retry-After`; incoming webhooks whose URL is the
//! secret and that answer `ok` or an error in plain text.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, base_url, call, failure, output};

const TOKEN: &str = "xoxb-000000000000-0000000000000-s3cretT0kenValue";

async fn engine() -> muster_testkit::TestEngine {
    let t = support::engine().await;
    support::credential(&t, "slack", json!({"type": "text", "value": TOKEN})).await;
    t
}

fn options(server: &MockServer, lines: &str) -> String {
    format!("{}\n{lines}", base_url(server, "/api"))
}

#[tokio::test]
async fn post_message_sends_the_bot_token_and_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("Content-Type", "application/json; charset=utf-8"))
        .and(body_json(json!({"channel": "C0123456789", "text": "Blocked 203.0.113.7"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "channel": "C0123456789", "ts": "1718000000.000200",
            "message": {"type": "message", "text": "Blocked 203.0.113.7", "user": "U0BOT", "ts": "1718000000.000200"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "slack.post_message",
        &options(
            &server,
            "      channel: C0123456789\n      text: \"Blocked {{ start.ip }}\"",
        ),
        json!({"ip": "203.0.113.7"}),
    )
    .await;
    let out = output(&run, &events);
    assert_eq!(
        out,
        json!({"channel": "C0123456789", "ts": "1718000000.000200", "thread_ts": "1718000000.000200"})
    );
}

#[tokio::test]
async fn a_reply_goes_to_the_thread() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(body_json(json!({
            "channel": "C0123456789", "text": "Done",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Done*"}}],
            "thread_ts": "1718000000.000200"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "channel": "C0123456789", "ts": "1718000001.000300",
            "message": {"text": "Done", "ts": "1718000001.000300", "thread_ts": "1718000000.000200"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, events) = call(
        &t,
        "slack.post_message",
        &options(
            &server,
            "      channel: C0123456789\n      text: Done\n      thread_ts: \"1718000000.000200\"\n      blocks: [{ type: section, text: { type: mrkdwn, text: \"*Done*\" } }]",
        ),
        json!({}),
    )
    .await;
    assert_eq!(output(&run, &events)["thread_ts"], "1718000000.000200");
}

#[tokio::test]
async fn ok_false_with_200_is_an_error_with_slacks_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": false, "error": "channel_not_found"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    let (run, _) = call(
        &t,
        "slack.post_message",
        &options(&server, "      channel: \"#nowhere\"\n      text: hello"),
        json!({}),
    )
    .await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(
        reason,
        "action `call` failed: slack answered with an error: channel_not_found"
    );
}

#[tokio::test]
async fn slacks_429_retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let t = engine().await;
    t.install(&support::playbook_with_retry(
        "slack.post_message",
        &options(&server, "      channel: C0123456789\n      text: hello"),
        "{ attempts: 2, backoff: 10ms }",
    ))
    .await;
    let run = t.start_run("call_it", json!({})).await;
    let wait = support::retry_scheduled(&t, run, 2).await;
    assert!((25..=30).contains(&wait), "retried in {wait}s");
}

#[tokio::test]
async fn an_incoming_webhook_posts_to_the_url_kept_in_the_credential() {
    let server = MockServer::start().await;
    let hook = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
    Mock::given(method("POST"))
        .and(path(hook))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"text": "Phishing triaged: malicious"})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .set_body_string("ok"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(
        &t,
        "slack_webhook",
        json!({"type": "text", "value": format!("{}{hook}", server.uri())}),
    )
    .await;
    let (run, events) = call(
        &t,
        "slack.incoming_webhook",
        "      text: \"Phishing triaged: {{ start.verdict }}\"",
        json!({"verdict": "malicious"}),
    )
    .await;
    assert_eq!(output(&run, &events), json!({"ok": true}));
}

#[tokio::test]
async fn a_webhook_slack_refuses_fails_in_slacks_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .expect(1)
        .mount(&server)
        .await;
    let t = support::engine().await;
    support::credential(
        &t,
        "slack_webhook",
        json!({"type": "text", "value": format!("{}/services/T0/B0/gone", server.uri())}),
    )
    .await;
    let (run, _) = call(&t, "slack.incoming_webhook", "      text: hello", json!({})).await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert_eq!(
        reason,
        "action `call` failed: HTTP 404 Not Found: no_service"
    );
}
