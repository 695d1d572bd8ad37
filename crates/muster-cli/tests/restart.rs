//! Waiting runs survive a SIGKILL of the server: a delay of minutes keeps its resume time, a
//! short delay and an implode waiting for its group finish after the restart.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::Muster;

const PLAYBOOKS: &[&str] = &[
    r#"
name: long_delay
actions:
  - id: hook
    type: webhook
    options: { path: long }
  - id: wait
    type: delay
    options: { duration: 10m }
links: [hook -> wait]
"#,
    r#"
name: short_delay
actions:
  - id: hook
    type: webhook
    options: { path: short }
  - id: wait
    type: delay
    options: { duration: 2s }
  - id: done
    type: exit
    options: { output: { waited: "{{ wait.waited_ms }}" } }
links: [hook -> wait, wait -> done]
"#,
    r#"
name: group_wait
actions:
  - id: hook
    type: webhook
    options: { path: group }
  - id: each
    type: explode
    options: { items: [fast, slow] }
  - id: route
    type: condition
    options: { when: "{{ each.item == 'slow' }}" }
  - id: wait
    type: delay
    options: { duration: 2s }
  - id: all
    type: implode
    options: { item: "{{ each.item }}", timeout: 10m }
  - id: done
    type: exit
    options: { output: "{{ all }}" }
links: [hook -> each, each -> route, route.true -> wait, route.false -> all, wait -> all, all -> done]
"#,
];

async fn fire(muster: &Muster, path: &str) -> String {
    let response = support::client()
        .post(format!("{}/hooks/{path}", muster.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["run_id"].as_str().unwrap().to_string()
}

async fn run(muster: &Muster, id: &str) -> Value {
    muster.get(&format!("/api/v1/runs/{id}")).await
}

#[tokio::test]
async fn waiting_runs_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut muster = Muster::start(&data).await;
    for playbook in PLAYBOOKS {
        muster.import(playbook).await;
    }
    let long = fire(&muster, "long").await;
    let short = fire(&muster, "short").await;
    let group = fire(&muster, "group").await;
    for id in [&long, &short, &group] {
        muster
            .eventually(Duration::from_secs(10), "the run to wait", || async {
                run(&muster, id).await["status"] == "waiting"
            })
            .await;
    }
    let before = run(&muster, &long).await;
    let reason = before["reason"].as_str().unwrap().to_string();
    assert!(reason.starts_with("waiting for delay until "), "{reason}");

    muster.kill();
    let muster = Muster::start_on(&data, muster.port).await;

    let after = run(&muster, &long).await;
    assert_eq!(after["status"], "waiting");
    assert_eq!(
        after["reason"].as_str(),
        Some(reason.as_str()),
        "the resume time is kept"
    );
    assert_eq!(after["tasks"].as_array().unwrap().len(), 1);

    for id in [&short, &group] {
        muster
            .eventually(
                Duration::from_secs(20),
                "the run to finish after the restart",
                || async { run(&muster, id).await["status"] == "succeeded" },
            )
            .await;
    }
    let short_run = run(&muster, &short).await;
    assert!(short_run["output"]["waited"].as_i64().unwrap() >= 2000);
    let group_run = run(&muster, &group).await;
    assert_eq!(group_run["output"]["count"], 2);
    assert_eq!(group_run["output"]["items"], json!(["fast", "slow"]));
    assert_eq!(group_run["output"]["complete"], true);
}
