//! Run routes: manual triggers (payload shaping, inputs, trigger choice, disabled playbooks),
//! listing with filters and totals, run detail with events and tasks, events, cancelling.

mod common;

use common::{Server, json, start};
use reqwest::Method;
use serde_json::{Value, json};

const HELLO: &str = "
name: hello
actions:
  - id: start
    type: manual
  - id: greet
    type: set
    options: { greeting: \"hello {{ start.who }}\" }
  - id: done
    type: exit
links: [start -> greet, greet -> done]
";

const SLOW: &str = "
name: slow
actions:
  - id: start
    type: manual
  - id: later
    type: delay
    options: { duration: 1h }
links: [start -> later]
";

fn failing(port: u16) -> String {
    format!(
        "
name: failing
actions:
  - id: start
    type: manual
  - id: call
    type: http_request
    options: {{ url: \"http://127.0.0.1:{port}/nothing\" }}
    retry: {{ attempts: 1 }}
links: [start -> call]
"
    )
}

/// A loopback port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn get(server: &Server, path: &str) -> (u16, Value) {
    json(server.api(Method::GET, path).send().await.unwrap()).await
}

async fn post_run(server: &Server, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut request = server.api(Method::POST, path);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_manual_run_executes_and_shows_its_events() {
    let server = start().await;
    server.install(HELLO).await;
    let response = server
        .api(Method::POST, "/api/v1/playbooks/hello/runs")
        .json(&json!({"who": "analyst"}))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (status, started) = json(response).await;
    assert_eq!(status, 202, "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/runs/{run_id}"));
    server.finish(run_id.parse().unwrap()).await;

    let (status, run) = get(&server, &location).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["id"], run_id.as_str());
    assert_eq!(run["playbook"], "hello");
    assert_eq!(run["version"], 1);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["trigger"], "start");
    assert_eq!(run["output"], json!({"greeting": "hello analyst"}));
    assert_eq!(run["pending"], 0);
    assert!(run["finished_at"].is_string());
    assert_eq!(run["tasks"], json!([]));
    let events = run["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["start", "greet", "done"]);
    assert_eq!(events[0]["parent"], Value::Null);
    assert_eq!(events[0]["output"], json!({"who": "analyst"}));
    assert_eq!(events[1]["parent"], events[0]["id"]);
    assert_eq!(events[1]["port"], "out");
    assert_eq!(events[2]["parent"], events[1]["id"]);

    let (status, event) = get(
        &server,
        &format!("/api/v1/events/{}", events[1]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(event["action"], "greet");
    assert_eq!(event["run_id"], run_id.as_str());
    assert_eq!(event["output"], json!({"greeting": "hello analyst"}));

    let unknown = uuid::Uuid::now_v7();
    let (status, _) = get(&server, &format!("/api/v1/events/{unknown}")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&server, &format!("/api/v1/runs/{unknown}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_empty_body_is_an_empty_payload_and_bad_payloads_are_refused() {
    let server = start().await;
    server.install(SLOW).await;
    let (status, started) = post_run(&server, "/api/v1/playbooks/slow/runs", None).await;
    assert_eq!(status, 202, "{started}");
    let (_, run) = get(
        &server,
        &format!("/api/v1/runs/{}", started["run_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(run["events"][0]["output"], json!({}));

    let (status, body) = post_run(&server, "/api/v1/playbooks/slow/runs", Some("{\"a\": ")).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("line 1"),
        "{body}"
    );

    let (status, _) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/slow/runs")
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 415);

    let (status, body) = post_run(&server, "/api/v1/playbooks/nope/runs", Some("{}")).await;
    assert_eq!(status, 404, "{body}");

    let (status, body) = post_run(
        &server,
        "/api/v1/playbooks/slow/runs?trigger=later",
        Some("{}"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("start"),
        "{body}"
    );
}

#[tokio::test]
async fn declared_inputs_are_checked_and_triggers_shape_the_payload() {
    let server = start().await;
    server
        .install(
            "
name: lookup
inputs:
  ip: { type: string }
  days: { type: integer, default: 30 }
actions:
  - id: start
    type: manual
  - id: alert
    type: webhook
    options: { path: lookup }
",
        )
        .await;
    let (status, body) = post_run(&server, "/api/v1/playbooks/lookup/runs", Some("{}")).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("ip"), "{body}");

    let (status, started) = post_run(
        &server,
        "/api/v1/playbooks/lookup/runs",
        Some(r#"{"ip": "203.0.113.7"}"#),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let (_, run) = get(
        &server,
        &format!("/api/v1/runs/{}", started["run_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        run["events"][0]["output"],
        json!({"ip": "203.0.113.7", "days": 30})
    );

    // Through the webhook trigger, the payload becomes a request body.
    let (status, started) = post_run(
        &server,
        "/api/v1/playbooks/lookup/runs?trigger=alert",
        Some(r#"{"src": "x"}"#),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let (_, run) = get(
        &server,
        &format!("/api/v1/runs/{}", started["run_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(run["trigger"], "alert");
    let trigger_event = &run["events"][0]["output"];
    assert_eq!(trigger_event["body"], json!({"src": "x"}));
    assert_eq!(trigger_event["path"], "lookup");
}

#[tokio::test]
async fn a_disabled_playbook_refuses_runs() {
    let server = start().await;
    server.install(HELLO).await;
    let (status, _) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/hello/disable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post_run(&server, "/api/v1/playbooks/hello/runs", Some("{}")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "playbook_disabled");
    let (_, list) = get(&server, "/api/v1/runs").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn runs_are_listed_with_filters_totals_and_pages() {
    let server = start().await;
    server.install(HELLO).await;
    server.install(&failing(closed_port().await)).await;
    let mut hello_runs = Vec::new();
    for who in ["a", "b", "c"] {
        let run = server.start_run("hello", json!({"who": who})).await;
        server.finish(run).await;
        hello_runs.push(run.to_string());
    }
    let failed = server.start_run("failing", json!({})).await;
    let record = server.finish(failed).await;
    assert_eq!(record.status.as_str(), "failed");

    let (status, all) = get(&server, "/api/v1/runs").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 4);
    assert_eq!(all["limit"], 50);
    assert_eq!(all["offset"], 0);
    assert_eq!(all["items"].as_array().unwrap().len(), 4);

    let (_, hello) = get(&server, "/api/v1/runs?playbook=hello").await;
    assert_eq!(hello["total"], 3);
    let mut ids: Vec<String> = hello["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected = hello_runs.clone();
    expected.sort();
    assert_eq!(ids, expected);

    let (_, failed_runs) = get(&server, "/api/v1/runs?status=failed").await;
    assert_eq!(failed_runs["total"], 1);
    let run = &failed_runs["items"][0];
    assert_eq!(run["id"], failed.to_string());
    assert_eq!(run["status"], "failed");
    assert!(run["reason"].as_str().unwrap().contains("call"), "{run}");
    assert!(run["error"].is_object(), "{run}");

    let (_, none) = get(&server, "/api/v1/runs?playbook=hello&status=failed").await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"], json!([]));

    let (_, page) = get(&server, "/api/v1/runs?playbook=hello&limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 3);
    assert_eq!(page["limit"], 2);
    let (_, rest) = get(&server, "/api/v1/runs?playbook=hello&limit=2&offset=2").await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["offset"], 2);

    let (status, body) = get(&server, "/api/v1/runs?status=done").await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    for valid in ["running", "waiting", "succeeded", "failed", "cancelled"] {
        assert!(message.contains(valid), "{message}");
    }
    for bad in ["limit=0", "limit=501", "limit=abc", "offset=-1"] {
        let (status, body) = get(&server, &format!("/api/v1/runs?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "bad_request");
    }
}

#[tokio::test]
async fn a_run_can_be_cancelled_once() {
    let server = start().await;
    server.install(SLOW).await;
    let run = server.start_run("slow", json!({})).await;
    let (_, detail) = get(&server, &format!("/api/v1/runs/{run}")).await;
    assert_eq!(detail["tasks"].as_array().unwrap().len(), 1, "{detail}");
    assert_eq!(detail["tasks"][0]["action"], "later");

    let (status, body) = json(
        server
            .api(
                Method::POST,
                &format!("/api/v1/runs/{run}/cancel?reason=false%20positive"),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], run.to_string());
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["reason"], "false positive");
    assert!(body["finished_at"].is_string());

    let (_, detail) = get(&server, &format!("/api/v1/runs/{run}")).await;
    assert_eq!(detail["status"], "cancelled");
    assert_eq!(detail["tasks"], json!([]));

    let (status, body) = json(
        server
            .api(Method::POST, &format!("/api/v1/runs/{run}/cancel"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "run_finished");

    let unknown = uuid::Uuid::now_v7();
    let (status, _) = json(
        server
            .api(Method::POST, &format!("/api/v1/runs/{unknown}/cancel"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_idempotency_key_starts_one_run() {
    let server = start().await;
    server.install(SLOW).await;
    let send = || {
        server
            .api(Method::POST, "/api/v1/playbooks/slow/runs")
            .header("idempotency-key", "case-4711")
            .json(&json!({}))
            .send()
    };
    let (status, first) = json(send().await.unwrap()).await;
    assert_eq!(status, 202, "{first}");
    let (status, again) = json(send().await.unwrap()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["run_id"], first["run_id"]);
    assert_eq!(again["duplicate"], true);
    let (_, list) = get(&server, "/api/v1/runs").await;
    assert_eq!(list["total"], 1);
}
