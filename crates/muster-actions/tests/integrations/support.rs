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
    format!(
        "name: call_it\nactions:\n  - id: start\n    type: manual\n  - id: call\n    type: {kind}\n    retry: {{ attempts: 1 }}\n    options:\n{options}\nlinks: [start -> call]\n"
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
