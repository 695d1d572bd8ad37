//! Playbook routes: import as YAML and JSON, unchanged re-imports, invalid documents (422,
//! nothing stored), list, show, export, enable, disable, delete, and bad requests.

mod common;

use common::{json, start, start_with};
use reqwest::Method;
use serde_json::{Value, json};

const TRIAGE: &str = "
name: triage
description: Triage reported alerts.
team: soc
actions:
  - id: alert
    type: webhook
    options: { path: triage/alerts }
  - id: start
    type: manual
  - id: note
    type: set
    options: { seen: true }
links:
  - alert -> note
  - start -> note
";

async fn import(server: &common::Server, content_type: &str, body: &str) -> (u16, Value) {
    json(
        server
            .api(Method::POST, "/api/v1/playbooks")
            .header("content-type", content_type)
            .body(body.to_string())
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
async fn a_yaml_import_stores_a_version_and_an_unchanged_one_does_not() {
    let server = start().await;
    let (status, summary) = import(&server, "application/yaml", TRIAGE).await;
    assert_eq!(status, 201, "{summary}");
    assert_eq!(summary["name"], "triage");
    assert_eq!(summary["version"], 1);
    assert_eq!(summary["enabled"], true);
    assert_eq!(summary["team"], "soc");
    assert_eq!(summary["description"], "Triage reported alerts.");
    assert_eq!(
        summary["triggers"],
        json!([
            {"id": "alert", "type": "webhook", "webhook_path": "triage/alerts"},
            {"id": "start", "type": "manual"},
        ])
    );
    for time in ["created_at", "updated_at"] {
        let text = summary[time].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "{time}: {text}"
        );
    }

    // The same document again (other media type, other layout): nothing new is stored.
    let reformatted = TRIAGE.replace("{ seen: true }", "\n      seen: true");
    let (status, again) = import(&server, "text/yaml", &reformatted).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["version"], 1);

    // A change is a new version.
    let changed = TRIAGE.replace("seen: true", "seen: false");
    let (status, next) = import(&server, "text/plain", &changed).await;
    assert_eq!(status, 201, "{next}");
    assert_eq!(next["version"], 2);
}

#[tokio::test]
async fn a_json_import_is_the_same_playbook() {
    let server = start().await;
    let document = json!({
        "name": "from_json",
        "actions": [
            {"id": "start", "type": "manual"},
            {"id": "note", "type": "set", "options": {"n": 1}},
        ],
        "links": ["start -> note"],
    });
    let response = server
        .api(Method::POST, "/api/v1/playbooks")
        .json(&document)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        "/api/v1/playbooks/from_json"
    );
    let (status, summary) = json(response).await;
    assert_eq!(status, 201, "{summary}");
    assert_eq!(summary["name"], "from_json");

    let (status, detail) = get(&server, "/api/v1/playbooks/from_json").await;
    assert_eq!(status, 200);
    assert_eq!(
        detail["definition"]["actions"][1]["options"],
        json!({"n": 1})
    );
    assert_eq!(detail["definition"]["links"], json!(["start -> note"]));

    // The YAML export imports back as the same version.
    let export = server
        .api(Method::GET, "/api/v1/playbooks/from_json/export")
        .send()
        .await
        .unwrap();
    let yaml = export.text().await.unwrap();
    let (status, again) = import(&server, "application/yaml", &yaml).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["version"], 1);

    // JSON that YAML reads differently (surrogate-pair escapes) still imports.
    let escaped = r#"{"name": "escaped", "description": "phish \ud83c\udfa3 \/ report",
        "actions": [{"id": "start", "type": "manual"}]}"#;
    let (status, summary) = import(&server, "application/json", escaped).await;
    assert_eq!(status, 201, "{summary}");
    assert_eq!(summary["description"], "phish \u{1f3a3} / report");

    // Problems are located in the document as sent.
    let unknown_type = "{\n  \"name\": \"typo\",\n  \"actions\": [\n    {\"id\": \"start\", \"type\": \"manul\"}\n  ]\n}";
    let (status, body) = import(&server, "application/json", unknown_type).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["diagnostics"][0]["file"], "playbook.json");
    assert_eq!(body["diagnostics"][0]["line"], 4, "{body}");

    // A JSON body that is not a JSON object, or not JSON at all.
    let (status, body) = import(&server, "application/json", "[1, 2]").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = import(
        &server,
        "application/json",
        "{\"name\": \"x\",\n \"actions\": [}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("line 2"),
        "{body}"
    );
}

#[tokio::test]
async fn an_invalid_playbook_is_refused_with_diagnostics_and_not_stored() {
    let server = start().await;
    let invalid = "
name: broken
actions:
  - id: start
    type: manual
  - id: lookup
    type: webhok
links:
  - start -> lookup
  - start -> missing
";
    let (status, body) = import(&server, "application/yaml", invalid).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "invalid_playbook");
    let diagnostics = body["diagnostics"].as_array().unwrap();
    assert!(diagnostics.len() >= 2, "{body}");
    let unknown_type = diagnostics
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("webhok"))
        .unwrap_or_else(|| panic!("no diagnostic for the unknown type: {body}"));
    assert_eq!(unknown_type["file"], "playbook.yaml");
    assert_eq!(unknown_type["line"], 7);
    assert!(unknown_type["column"].as_u64().unwrap() > 1);
    assert!(
        unknown_type["hint"].as_str().unwrap().contains("webhook"),
        "{unknown_type}"
    );

    let (status, _) = get(&server, "/api/v1/playbooks/broken").await;
    assert_eq!(status, 404);
    let (_, list) = get(&server, "/api/v1/playbooks").await;
    assert_eq!(list["total"], 0);

    // The file name given by the client is used in diagnostics.
    let (_, body) = json(
        server
            .api(Method::POST, "/api/v1/playbooks?file=broken.yaml")
            .header("content-type", "application/yaml")
            .body(invalid)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["diagnostics"][0]["file"], "broken.yaml");
}

#[tokio::test]
async fn list_get_export_enable_disable_and_delete() {
    let server = start().await;
    server.install(TRIAGE).await;
    server
        .install("name: another\nactions:\n  - id: start\n    type: manual\n")
        .await;

    let (status, list) = get(&server, "/api/v1/playbooks").await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["another", "triage"]);

    let (status, detail) = get(&server, "/api/v1/playbooks/triage").await;
    assert_eq!(status, 200);
    assert_eq!(detail["name"], "triage");
    assert_eq!(detail["version"], 1);
    assert_eq!(detail["definition"]["name"], "triage");
    assert_eq!(detail["definition"]["actions"][0]["type"], "webhook");

    let export = server
        .api(Method::GET, "/api/v1/playbooks/triage/export")
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/yaml")
    );
    let yaml = export.text().await.unwrap();
    assert!(yaml.starts_with("name: triage\n"), "{yaml}");
    assert!(yaml.contains("path: triage/alerts"), "{yaml}");

    let (status, summary) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/triage/disable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(summary["enabled"], false);
    let (_, detail) = get(&server, "/api/v1/playbooks/triage").await;
    assert_eq!(detail["enabled"], false);

    let (status, summary) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/triage/enable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(summary["enabled"], true);

    let response = server
        .api(Method::DELETE, "/api/v1/playbooks/triage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = get(&server, "/api/v1/playbooks/triage").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let (_, list) = get(&server, "/api/v1/playbooks").await;
    assert_eq!(list["total"], 1);

    for (method, path) in [
        (Method::DELETE, "/api/v1/playbooks/triage"),
        (Method::POST, "/api/v1/playbooks/triage/enable"),
        (Method::GET, "/api/v1/playbooks/triage/export"),
    ] {
        let (status, _) = json(server.api(method.clone(), path).send().await.unwrap()).await;
        assert_eq!(status, 404, "{method} {path}");
    }
}

#[tokio::test]
async fn put_requires_the_document_to_name_the_playbook() {
    let server = start().await;
    let put = |name: &str, body: &str| {
        server
            .api(Method::PUT, &format!("/api/v1/playbooks/{name}"))
            .header("content-type", "application/yaml")
            .body(body.to_string())
            .send()
    };
    let (status, body) = json(put("other", TRIAGE).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("`other`"),
        "{body}"
    );
    let (_, list) = get(&server, "/api/v1/playbooks").await;
    assert_eq!(list["total"], 0);

    let (status, summary) = json(put("triage", TRIAGE).await.unwrap()).await;
    assert_eq!(status, 201, "{summary}");
    let (status, _) = json(put("triage", TRIAGE).await.unwrap()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bodies_of_the_wrong_type_size_or_encoding_are_refused() {
    let server = start_with(|config| config.max_playbook_bytes = 2048).await;

    let (status, body) = import(&server, "application/x-www-form-urlencoded", TRIAGE).await;
    assert_eq!(status, 415);
    assert_eq!(body["code"], "unsupported_media_type");
    let (status, _) = json(
        server
            .api(Method::POST, "/api/v1/playbooks")
            .body(TRIAGE)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 415);

    let large = format!("{TRIAGE}\n# {}\n", "x".repeat(4096));
    let (status, body) = import(&server, "application/yaml", &large).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["message"].as_str().unwrap().contains("2048"), "{body}");

    let (status, body) = json(
        server
            .api(Method::POST, "/api/v1/playbooks")
            .header("content-type", "application/yaml")
            .body(b"name: caf\xe9\n".to_vec())
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

    let (status, _) = import(&server, "application/yaml", "  \n").await;
    assert_eq!(status, 400);

    let (_, list) = get(&server, "/api/v1/playbooks").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn a_webhook_path_used_by_another_playbook_is_refused() {
    let server = start().await;
    server.install(TRIAGE).await;
    let thief = TRIAGE.replace("name: triage", "name: thief");
    let (status, body) = import(&server, "application/yaml", &thief).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("triage/alerts"),
        "{body}"
    );
    let (status, _) = get(&server, "/api/v1/playbooks/thief").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_polling_trigger_shows_how_polling_goes() {
    let server = start().await;
    // Nothing listens on this port: every poll fails to connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    server
        .install(&format!(
            "
name: inbox
actions:
  - id: reported
    type: email_inbox
    options:
      host: 127.0.0.1
      port: {port}
      security: none
      username: soc
      password: secret-pw
      interval: 1h
"
        ))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let polling = loop {
        let (status, body) = json(
            server
                .api(Method::GET, "/api/v1/playbooks/inbox")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let polling = body["triggers"][0]["polling"].clone();
        if polling["polls"].as_u64().unwrap_or_default() >= 1 {
            break polling;
        }
        assert!(std::time::Instant::now() < deadline, "no poll: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(polling["failures"], 1);
    assert_eq!(polling["runs_started"], 0);
    let error = polling["last_error"].as_str().unwrap();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(polling["next_poll_at"].is_string(), "{polling}");
    assert!(polling["last_success_at"].is_null(), "{polling}");

    let (status, _) = json(
        server
            .api(Method::POST, "/api/v1/playbooks/inbox/disable")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = json(
        server
            .api(Method::GET, "/api/v1/playbooks/inbox")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(body["triggers"][0].get("polling").is_none(), "{body}");
}
