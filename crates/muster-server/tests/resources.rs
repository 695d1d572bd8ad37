//! Resource routes: create by name in the URL or in the body, replace, list, delete; invalid
//! input is refused; runs read the current value as `resources.NAME`.

mod common;

use common::json;
use muster_store::RunStatus;
use reqwest::Method;
use serde_json::{Value, json};

async fn put(server: &common::Server, name: &str, body: Value) -> (u16, Value) {
    json(
        server
            .api(Method::PUT, &format!("/api/v1/resources/{name}"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get(server: &common::Server, path: &str) -> (u16, Value) {
    json(server.api(Method::GET, path).send().await.unwrap()).await
}

#[tokio::test]
async fn resources_are_created_replaced_listed_and_deleted() {
    let server = common::start().await;
    let (status, created) = put(
        &server,
        "blocklist",
        json!({"value": ["203.0.113.7", "198.51.100.9"], "description": "never allow"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["value"], json!(["203.0.113.7", "198.51.100.9"]));
    assert_eq!(created["description"], "never allow");

    let response = server
        .api(Method::POST, "/api/v1/resources")
        .json(&json!({"name": "threshold", "value": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "/api/v1/resources/threshold"
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = put(&server, "oncall", json!({"value": "soc@example.com"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = put(
        &server,
        "escalation",
        json!({"value": {"team": "soc", "levels": [1, 2]}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, replaced) = put(&server, "threshold", json!({"value": 7})).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["value"], 7);
    let (status, one) = get(&server, "/api/v1/resources/threshold").await;
    assert_eq!(status, 200);
    assert_eq!(one["value"], 7);
    assert!(one["created_at"].is_string() && one["updated_at"].is_string());

    let (_, list) = get(&server, "/api/v1/resources").await;
    assert_eq!(list["total"], 4);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["blocklist", "escalation", "oncall", "threshold"]);

    let response = server
        .api(Method::DELETE, "/api/v1/resources/oncall")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for (method, path) in [
        (Method::GET, "/api/v1/resources/oncall"),
        (Method::DELETE, "/api/v1/resources/oncall"),
    ] {
        let (status, body) = json(server.api(method, path).send().await.unwrap()).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["message"], "resource `oncall` not found");
    }
}

#[tokio::test]
async fn invalid_resources_are_refused() {
    let server = common::start().await;
    for (name, body, expected, message) in [
        (
            "x",
            json!({"description": "no value"}),
            400,
            "needs a `value`",
        ),
        ("x", json!({"value": null}), 422, "may not be null"),
        (
            "x",
            json!({"value": 1, "extra": 2}),
            400,
            "unknown field `extra`",
        ),
        (
            "x",
            json!({"value": 1, "description": 2}),
            400,
            "`description` must be a string",
        ),
        (
            "bad%20name",
            json!({"value": 1}),
            422,
            "not a valid resource name",
        ),
        ("x", json!("just a string"), 400, "must be a JSON object"),
    ] {
        let (status, answer) = put(&server, name, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{body}: {answer}"
        );
    }
    let (status, answer) = json(
        server
            .api(Method::POST, "/api/v1/resources")
            .json(&json!({"value": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("needs a `name`")
    );
    let (_, list) = get(&server, "/api/v1/resources").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn runs_read_the_current_value() {
    let server = common::start().await;
    server
        .install(
            r#"
name: uses_resources
actions:
  - id: start
    type: manual
  - id: decide
    type: set
    options:
      blocked: "{{ start.ip in resources.blocklist }}"
      notify: "{{ resources.escalation.team }}"
links: [start -> decide]
"#,
        )
        .await;
    put(&server, "blocklist", json!({"value": ["203.0.113.7"]})).await;
    put(&server, "escalation", json!({"value": {"team": "soc"}})).await;
    let run = server
        .start_run("uses_resources", json!({"ip": "203.0.113.7"}))
        .await;
    assert_eq!(server.finish(run).await.status, RunStatus::Succeeded);
    let (_, detail) = get(&server, &format!("/api/v1/runs/{run}")).await;
    let output = &detail["events"][1]["output"];
    assert_eq!(output["blocked"], true, "{detail}");
    assert_eq!(output["notify"], "soc");

    put(&server, "blocklist", json!({"value": []})).await;
    let run = server
        .start_run("uses_resources", json!({"ip": "203.0.113.7"}))
        .await;
    server.finish(run).await;
    let (_, detail) = get(&server, &format!("/api/v1/runs/{run}")).await;
    assert_eq!(detail["events"][1]["output"]["blocked"], false, "{detail}");
}
