//! Running one integration action in a playbook against a mock server.

#![allow(dead_code)]

use muster_store::{EventRecord, RunRecord, RunStatus};
use muster_testkit::{TestEngine, outputs_of};
use serde_json::Value;
use wiremock::MockServer;

/// An engine whose HTTP client may reach loopback (where the mocks listen).
pub async fn engine() -> TestEngine {
    super::common::engine().await
}

/// Stores credential `name` allowed toward the mocks.
pub async fn credential(t: &TestEngine, name: &str, value: Value) {
    t.set_credential(name, value, &["127.0.0.1"]).await;
}

/// A playbook `call_it` whose action `call` is `kind` with `options` (YAML lines, indented
/// six spaces), tried once so that the error class is what the response made it.
pub fn playbook(kind: &str, options: &str) -> String {
    playbook_with_retry(kind, options, "{ attempts: 1 }")
}

/// [`playbook`] with another retry policy.
pub fn playbook_with_retry(kind: &str, options: &str, retry: &str) -> String {
    format!(
        "name: call_it\nactions:\n  - id: start\n    type: manual\n  - id: call\n    type: {kind}\n    retry: {retry}\n    options:\n{options}\nlinks: [start -> call]\n"
    )
}

/// `base_url: <server>/<suffix>` as an option line.
pub fn base_url(server: &MockServer, suffix: &str) -> String {
    format!("      base_url: \"{}{suffix}\"", server.uri())
}

/// Installs the playbook, runs it with `payload` and returns the run and its events.
pub async fn call(
    t: &TestEngine,
    kind: &str,
    options: &str,
    payload: Value,
) -> (RunRecord, Vec<EventRecord>) {
    t.install(&playbook(kind, options)).await;
    t.run("call_it", payload).await
}

/// The action's output of a run that must have succeeded.
pub fn output(run: &RunRecord, events: &[EventRecord]) -> Value {
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "{:?} {:?}",
        run.reason,
        run.error
    );
    outputs_of(events, "call")
        .first()
        .map(|v| (*v).clone())
        .expect("the action emitted")
}

/// The reason and error class of a run that must have failed.
pub fn failure(run: &RunRecord) -> (String, String) {
    assert_eq!(run.status, RunStatus::Failed, "{:?}", run.reason);
    let error = run.error.clone().unwrap_or_default();
    (
        run.reason.clone().unwrap_or_default(),
        error["class"].as_str().unwrap_or_default().to_string(),
    )
}

/// The single request the mock received.
pub async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

/// Waits (up to 10 s) until the run's task is scheduled for attempt `attempt`; returns how
/// long from now it will wait, in seconds.
pub async fn retry_scheduled(t: &TestEngine, run: muster_model::RunId, attempt: u32) -> i64 {
    use muster_store::Store;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let tasks = t.store.run_tasks(run).await.unwrap();
        if let Some(task) = tasks.iter().find(|task| task.attempt == attempt)
            && let Some(at) = task.run_at
        {
            return (at - muster_store::now_millis()) / 1000;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "attempt {attempt} was never scheduled: {tasks:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
