//! `http_request` pagination against real HTTP servers: `Link` headers, cursors and page
//! numbers, the caps, and next links that leave the origin.

mod common;

use muster_store::RunStatus;
use muster_testkit::outputs_of;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn playbook(url: &str, paginate: &str) -> String {
    format!(
        r#"
name: list
actions:
  - id: start
    type: manual
  - id: list
    type: http_request
    options:
      url: "{url}"
      query: {{ per_page: 2 }}
      headers: {{ Authorization: "Bearer t0ken" }}
      paginate: {paginate}
    retry: {{ attempts: 1 }}
links: [start -> list]
"#
    )
}

async fn run(url: &str, paginate: &str) -> (muster_store::RunRecord, Value) {
    let t = common::engine().await;
    t.install(&playbook(url, paginate)).await;
    let (run, events) = t.run("list", json!({})).await;
    let output = outputs_of(&events, "list")
        .first()
        .map(|v| (*v).clone())
        .unwrap_or(Value::Null);
    (run, output)
}

#[tokio::test]
async fn link_headers_are_followed_to_the_last_page() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/repos/alerts"))
        .and(query_param_is_missing("page"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{base}/repos/alerts?per_page=2&page=2>; rel=\"next\", \
                         <{base}/repos/alerts?per_page=2&page=3>; rel=\"last\""
                    ),
                )
                .set_body_json(json!([{"id": 1}, {"id": 2}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/alerts"))
        .and(query_param("page", "2"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", "</repos/alerts?per_page=2&page=3>; rel=\"next\"")
                .set_body_json(json!([{"id": 3}, {"id": 4}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/alerts"))
        .and(query_param("page", "3"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{base}/repos/alerts?page=1>; rel=\"first\""),
                )
                .set_body_json(json!([{"id": 5}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (run, output) = run(&format!("{base}/repos/alerts"), "{ type: link_header }").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let ids: Vec<i64> = output["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(output["pages"], 3);
    assert_eq!(output["truncated"], false);
    assert_eq!(output["status"], 200);
    assert_eq!(output["body"], json!([{"id": 5}]));
    server.verify().await;
}

#[tokio::test]
async fn a_cursor_field_is_copied_into_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"alerts": ["a", "b"]},
            "meta": {"next": "c2"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("after", "c2"))
        .and(query_param("per_page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"alerts": ["c", "d"]},
            "meta": {"next": 3}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("after", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {"alerts": ["e"]},
            "meta": {"next": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (run, output) = run(
        &format!("{}/alerts", server.uri()),
        "{ type: cursor, items: result.alerts, cursor: meta.next, param: after }",
    )
    .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(output["items"], json!(["a", "b", "c", "d", "e"]));
    assert_eq!(output["pages"], 3);
    server.verify().await;
}

#[tokio::test]
async fn page_numbers_count_up_until_an_empty_page() {
    let server = MockServer::start().await;
    for (page, items) in [("0", json!([1, 2])), ("1", json!([3])), ("2", json!([]))] {
        Mock::given(method("GET"))
            .and(query_param("p", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": items })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let (run, output) = run(
        &format!("{}/hosts", server.uri()),
        "{ type: page, items: data, param: p, start: 0 }",
    )
    .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(output["items"], json!([1, 2, 3]));
    assert_eq!(output["pages"], 3);
    assert_eq!(output["truncated"], false);
    server.verify().await;
}

#[tokio::test]
async fn the_caps_stop_pagination_and_say_it_was_truncated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [1, 2, 3] })))
        .mount(&server)
        .await;
    let (run, output) = run(&server.uri(), "{ type: page, items: data, max_pages: 2 }").await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(output["items"], json!([1, 2, 3, 1, 2, 3]));
    assert_eq!(output["pages"], 2);
    assert_eq!(output["truncated"], true);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let (_, output) = run_again(&server, "{ type: page, items: data, max_items: 4 }").await;
    assert_eq!(output["items"], json!([1, 2, 3, 1]));
    assert_eq!(output["pages"], 2);
    assert_eq!(output["truncated"], true);
}

async fn run_again(server: &MockServer, paginate: &str) -> (muster_store::RunRecord, Value) {
    run(&server.uri(), paginate).await
}

#[tokio::test]
async fn a_page_without_the_list_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "error": "quota" })))
        .mount(&server)
        .await;
    let (run, _) = run(&server.uri(), "{ type: page, items: data.hosts }").await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.reason.unwrap();
    assert!(reason.contains("page 1"), "{reason}");
    assert!(reason.contains("`items: data.hosts`"), "{reason}");
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", format!("<{}/steal>; rel=\"next\"", elsewhere.uri()))
                .set_body_json(json!([1])),
        )
        .mount(&server)
        .await;
    let (run, _) = run(&server.uri(), "{ type: link_header }").await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.reason.unwrap();
    assert!(reason.contains("outside the origin"), "{reason}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn pagination_is_for_get_requests() {
    let t = common::engine().await;
    let yaml = playbook("https://api.example.com/x", "{ type: page }")
        .replace("      query:", "      method: POST\n      query:");
    let error = t
        .engine
        .install("test.yaml", &yaml)
        .await
        .err()
        .expect("paginate with POST does not load");
    assert!(
        format!("{error:?}").contains("GET requests only"),
        "{error:?}"
    );
}

#[tokio::test]
async fn mistakes_in_paginate_are_found_when_the_playbook_loads() {
    let t = common::engine().await;
    for (paginate, expected) in [
        (
            "{ type: cursor, items: data, itms: x }",
            "unknown field `itms`",
        ),
        ("{ type: pages }", "unknown variant `pages`"),
        ("{ type: cursor, items: data }", "needs `cursor`"),
        (
            "{ type: page, max_pages: 5000 }",
            "`max_pages` must be between 1 and 1000",
        ),
    ] {
        let error = t
            .engine
            .install(
                "test.yaml",
                &playbook("https://api.example.com/x", paginate),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("`{paginate}` loads"));
        assert!(
            format!("{error:?}").contains(expected),
            "{paginate}: {error:?}"
        );
    }
    // Values chosen by expressions are checked when the request runs.
    t.install(&playbook(
        "https://api.example.com/x",
        "{ type: page, max_pages: \"{{ start.pages }}\" }",
    ))
    .await;
}
