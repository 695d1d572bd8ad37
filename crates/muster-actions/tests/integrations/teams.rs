//! Microsoft Teams incoming webhooks (Workflows): a POST of an Adaptive Card message to the
//! URL kept in the credential, 202 Accepted, `{"error": {"code", "message"}}` refusals.

use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::support::{self, call, failure, output};

const HOOK: &str = "/workflows/5a1b2c3d4e/triggers/manual/paths/invoke";

async fn engine(server: &MockServer) -> muster_testkit::TestEngine {
    let t = support::engine().await;
    let url = format!(
        "{}{HOOK}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s3cr3tSignature",
        server.uri()
    );
    support::credential(&t, "teams_webhook", json!({"type": "text", "value": url})).await;
    t
}

#[tokio::test]
async fn a_message_is_posted_as_an_adaptive_card() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK))
        .and(query_param("sig", "s3cr3tSignature"))
        .and(body_json(json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "VPN brute force", "weight": "Bolder", "size": "Medium", "wrap": true},
                        {"type": "TextBlock", "text": "Blocked 203.0.113.7", "wrap": true}
                    ]
                }
            }]
        })))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine(&server).await;
    let (run, events) = call(
        &t,
        "teams.incoming_webhook",
        "      title: VPN brute force\n      text: \"Blocked {{ start.ip }}\"",
        json!({"ip": "203.0.113.7"}),
    )
    .await;
    assert_eq!(output(&run, &events), json!({"status": 202}));
}

#[tokio::test]
async fn a_card_of_ones_own_is_sent_as_it_is() {
    let server = MockServer::start().await;
    let card = json!({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Custom"}]});
    Mock::given(method("POST"))
        .and(path(HOOK))
        .and(body_json(json!({
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}]
        })))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine(&server).await;
    let (run, events) = call(
        &t,
        "teams.incoming_webhook",
        "      text: fallback\n      card: \"{{ start.card }}\"",
        json!({"card": card}),
    )
    .await;
    output(&run, &events);
}

#[tokio::test]
async fn a_refused_payload_fails_in_the_workflows_words() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"code": "TriggerInputSchemaMismatch", "message": "The input body for trigger 'manual' of type 'Request' did not match its schema definition."}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let t = engine(&server).await;
    let (run, _) = call(&t, "teams.incoming_webhook", "      text: hello", json!({})).await;
    let (reason, class) = failure(&run);
    assert_eq!(class, "permanent");
    assert!(
        reason.ends_with("HTTP 400 Bad Request: TriggerInputSchemaMismatch: The input body for trigger 'manual' of type 'Request' did not match its schema definition."),
        "{reason}"
    );
}
