//! Authentication of the API, the error shape of unknown routes and methods, request ids,
//! health, readiness, metrics and the OpenAPI document served over HTTP.

mod common;

use common::{TOKEN, json, start};
use reqwest::Method;
use serde_json::json;

const MANUAL: &str = "
name: hello
actions:
  - id: start
    type: manual
  - id: greet
    type: set
    options: { greeting: \"hello {{ start.who }}\" }
links: [start -> greet]
";

#[tokio::test]
async fn api_routes_require_the_token() {
    let server = start().await;
    let url = server.url("/api/v1/playbooks");

    let (status, body) = json(server.client.get(&url).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");

    let (status, body) = json(
        server
            .client
            .get(&url)
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "the API token is not valid");

    let (status, _) = json(
        server
            .client
            .get(&url)
            .header("authorization", format!("Basic {TOKEN}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    // Writes are refused too, and store nothing.
    let response = server
        .client
        .post(&url)
        .header("content-type", "application/yaml")
        .body(MANUAL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let (status, body) = json(
        server
            .api(Method::GET, "/api/v1/playbooks")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"items": [], "total": 0}));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let server = start().await;
    let response = server
        .api(Method::GET, "/api/v1/nothing-here")
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = json(response).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let (status, body) = json(
        server
            .client
            .get(server.url("/nothing"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "unknown paths do not ask for a token: {body}");
    assert_eq!(body["message"], "no route for GET /nothing");

    let response = server
        .api(Method::PATCH, "/api/v1/runs")
        .send()
        .await
        .unwrap();
    let allow = response.headers().get("allow").cloned();
    let (status, body) = json(response).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
    assert!(allow.is_some(), "405 names the allowed methods");
    assert_eq!(body["message"], "PATCH is not allowed on /api/v1/runs");

    let (status, body) = json(
        server
            .api(Method::GET, "/api/v1/runs/not-a-uuid")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("not-a-uuid"));
}

#[tokio::test]
async fn a_client_request_id_is_echoed() {
    let server = start().await;
    let response = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readiness_checks_the_store() {
    let server = start().await;
    let response = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn metrics_count_runs_and_report_the_queue() {
    let server = start().await;
    server.install(MANUAL).await;
    let run = server.start_run("hello", json!({"who": "metrics"})).await;
    let record = server.finish(run).await;
    assert_eq!(record.status.as_str(), "succeeded");

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // Counters are process-wide (other tests run in this process too): at least this run.
    assert!(value("muster_runs_started_total{playbook=\"hello\"}") >= 1.0);
    assert!(value("muster_runs_finished_total{status=\"succeeded\"}") >= 1.0);
    assert!(text.contains("muster_action_executions_total{"), "{text}");
    assert!(
        text.contains("muster_action_duration_seconds_bucket{"),
        "{text}"
    );
    // Gauges read this server's store at scrape time.
    assert!(text.contains("muster_queue_ready "), "{text}");
    assert!(
        text.contains("muster_queue_oldest_ready_age_seconds "),
        "{text}"
    );
    assert!(text.contains("muster_runs{status=\"succeeded\"}"), "{text}");
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let server = start().await;
    let (status, doc) = json(
        server
            .api(Method::GET, "/api/v1/openapi.json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/runs/{id}/cancel"]["post"].is_object());
    assert!(doc["paths"]["/hooks/{path}"]["post"].is_object());
}

#[tokio::test]
async fn action_types_are_described() {
    let server = start().await;
    let (status, body) = json(
        server
            .api(Method::GET, "/api/v1/actions")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let types: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"webhook") && types.contains(&"http_request"),
        "{types:?}"
    );
    assert_eq!(body["total"], types.len());

    let (status, spec) = json(
        server
            .api(Method::GET, "/api/v1/actions/condition")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(spec["type"], "condition");
    assert_eq!(spec["trigger"], false);
    assert_eq!(spec["ports"], json!(["true", "false"]));
    assert!(spec["options"].is_object());

    let (status, body) = json(
        server
            .api(Method::GET, "/api/v1/actions/no_such_type")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}
