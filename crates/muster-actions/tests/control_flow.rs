//! Playbooks through the real engine: set, condition, explode/implode, deduplicate, delay,
//! throttle, run_playbook, exit, error handling, caps and cancellation.

mod common;

use std::borrow::Cow;
use std::time::Duration;

use muster_store::{RunStatus, Store};
use muster_testkit::outputs_of;
use serde_json::json;

const NORMALIZE: &str = r#"
name: normalize_alert
actions:
  - id: alert
    type: webhook
    options: { path: alerts }
  - id: normalize
    type: set
    options:
      source_ip: "{{ alert.body.src_ip or alert.body.sourceAddress or alert.body['remote-ip-address'] }}"
      failures: "{{ alert.body.count | int }}"
  - id: enough
    type: condition
    options: { when: "{{ normalize.failures >= 10 }}" }
  - id: block
    type: exit
    options: { output: { verdict: block, ip: "{{ normalize.source_ip }}" } }
  - id: ignore
    type: exit
    options: { output: { verdict: ignore } }
links:
  - alert -> normalize
  - normalize -> enough
  - enough.true -> block
  - enough.false -> ignore
"#;

#[tokio::test]
async fn set_condition_and_exit_follow_the_right_branch() {
    let t = common::engine().await;
    t.install(NORMALIZE).await;
    let (run, events) = t
        .run(
            "normalize_alert",
            json!({"sourceAddress": "203.0.113.7", "count": "12"}),
        )
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(
        run.output,
        Some(json!({"verdict": "block", "ip": "203.0.113.7"}))
    );
    assert_eq!(
        outputs_of(&events, "normalize"),
        [&json!({"source_ip": "203.0.113.7", "failures": 12})]
    );
    let decision = events.iter().find(|e| e.action == "enough").unwrap();
    assert_eq!(
        (decision.port.as_str(), &decision.output),
        ("true", &json!({"result": true}))
    );
    assert!(outputs_of(&events, "ignore").is_empty());

    let (run, _) = t
        .run(
            "normalize_alert",
            json!({"remote-ip-address": "198.51.100.1", "count": 3}),
        )
        .await;
    assert_eq!(run.output, Some(json!({"verdict": "ignore"})));
}

#[tokio::test]
async fn a_failing_expression_names_the_action_option_and_expression() {
    let t = common::engine().await;
    t.install(NORMALIZE).await;
    let (run, _) = t
        .run("normalize_alert", json!({"src_ip": "203.0.113.7"}))
        .await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.reason.unwrap();
    assert!(reason.contains("`normalize`"), "{reason}");
    assert!(reason.contains("option `failures`"), "{reason}");
    assert!(reason.contains("alert.body.count"), "{reason}");
}

#[tokio::test]
async fn condition_rules_decide_without_expressions() {
    let t = common::engine().await;
    t.install(
        r#"
name: rules
actions:
  - id: start
    type: manual
  - id: check
    type: condition
    options:
      match: any
      rules:
        - { value: "{{ start.score }}", op: greater_or_equal, expected: 70 }
        - { value: "{{ start.tags }}", op: contains, expected: malware }
  - id: hit
    type: exit
    options: { output: hit }
links: [start -> check, check.true -> hit]
"#,
    )
    .await;
    let (run, _) = t
        .run("rules", json!({"score": 10, "tags": ["malware"]}))
        .await;
    assert_eq!(run.output, Some(json!("hit")));
    let (run, events) = t.run("rules", json!({"score": 10, "tags": []})).await;
    assert_eq!(run.output, None);
    assert_eq!(
        events.iter().find(|e| e.action == "check").unwrap().port,
        "false"
    );
}

#[tokio::test]
async fn set_with_loop_builds_one_value_per_item() {
    let t = common::engine().await;
    t.install(
        r#"
name: looping
actions:
  - id: start
    type: manual
  - id: shape
    type: set
    options:
      loop: "{{ start.ips }}"
      ip: "{{ item }}"
      position: "{{ index }}"
links: [start -> shape]
"#,
    )
    .await;
    let (_, events) = t
        .run("looping", json!({"ips": ["203.0.113.7", "198.51.100.1"]}))
        .await;
    assert_eq!(
        outputs_of(&events, "shape"),
        [&json!([{"ip": "203.0.113.7", "position": 0}, {"ip": "198.51.100.1", "position": 1}])]
    );
}

const FAN_OUT: &str = r#"
name: fan_out
actions:
  - id: start
    type: manual
  - id: each
    type: explode
    options: { items: "{{ start.ips }}" }
  - id: score
    type: set
    options: { ip: "{{ each.item }}", score: "{{ each.index * 10 }}" }
  - id: all
    type: implode
    options: { item: "{{ score }}", timeout: 1m }
  - id: done
    type: exit
    options: { output: { count: "{{ all.count }}", first: "{{ all['items'][0].ip }}", from: "{{ start.source }}" } }
links: [start -> each, each -> score, score -> all, all -> done]
"#;

#[tokio::test]
async fn explode_and_implode_collect_every_item_in_order() {
    let t = common::engine().await;
    t.install(FAN_OUT).await;
    let ips: Vec<String> = (0..50).map(|i| format!("203.0.113.{i}")).collect();
    let (run, events) = t
        .run("fan_out", json!({"ips": ips, "source": "siem"}))
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(
        run.output,
        Some(json!({"count": 50, "first": "203.0.113.0", "from": "siem"}))
    );
    let collected = outputs_of(&events, "all");
    assert_eq!(collected.len(), 1, "the group is emitted once");
    let items = collected[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(
        items
            .iter()
            .enumerate()
            .all(|(i, item)| item["score"] == json!(i * 10))
    );
    assert_eq!(collected[0]["complete"], json!(true));
}

#[tokio::test]
async fn implode_emits_what_arrived_when_its_timeout_passes() {
    let t = common::engine().await;
    t.install(
        r#"
name: partial
actions:
  - id: start
    type: manual
  - id: each
    type: explode
    options: { items: "{{ start.items }}" }
  - id: all
    type: implode
    options: { size: 5, timeout: 300ms }
links: [start -> each, each -> all]
"#,
    )
    .await;
    let (run, events) = t.run("partial", json!({"items": [1, 2]})).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let all = outputs_of(&events, "all");
    assert_eq!(all[0]["count"], json!(2));
    assert_eq!(all[0]["expected"], json!(5));
    assert_eq!(all[0]["complete"], json!(false));
}

#[tokio::test]
async fn deduplicate_passes_a_key_once_across_runs() {
    let t = common::engine().await;
    t.install(
        r#"
name: dedup
actions:
  - id: start
    type: manual
  - id: once
    type: deduplicate
    options: { key: "{{ start.ip }}", window: 1h }
  - id: seen
    type: exit
    options: { output: repeat }
links: [start -> once, once.duplicate -> seen]
"#,
    )
    .await;
    let (_, first) = t.run("dedup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(
        first.iter().find(|e| e.action == "once").unwrap().port,
        "out"
    );
    let (second_run, second) = t.run("dedup", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(
        second.iter().find(|e| e.action == "once").unwrap().port,
        "duplicate"
    );
    assert_eq!(second_run.output, Some(json!("repeat")));
    let (_, other) = t.run("dedup", json!({"ip": "198.51.100.1"})).await;
    assert_eq!(
        other.iter().find(|e| e.action == "once").unwrap().port,
        "out"
    );
}

#[tokio::test]
async fn a_delay_parks_the_run_with_a_reason_then_continues() {
    let t = common::engine().await;
    t.install(
        r#"
name: delayed
actions:
  - id: start
    type: manual
  - id: wait
    type: delay
    options: { duration: 400ms }
links: [start -> wait]
"#,
    )
    .await;
    let run = t.start_run("delayed", json!({})).await;
    let waiting = wait_for_status(&t, run, RunStatus::Waiting).await;
    assert!(
        waiting
            .reason
            .unwrap()
            .starts_with("waiting for delay until ")
    );
    let (record, events) = t.finish(run, Duration::from_secs(10)).await;
    assert_eq!(record.status, RunStatus::Succeeded);
    let waited = outputs_of(&events, "wait")[0]["waited_ms"]
        .as_i64()
        .unwrap();
    assert!(waited >= 400, "{waited}");
}

#[tokio::test]
async fn throttle_spaces_events_of_one_key() {
    let t = common::engine().await;
    t.install(
        r#"
name: paced
actions:
  - id: start
    type: manual
  - id: pace
    type: throttle
    options: { key: "{{ start.user }}", rate: 2/1s }
links: [start -> pace]
"#,
    )
    .await;
    let first = t.start_run("paced", json!({"user": "alice"})).await;
    let second = t.start_run("paced", json!({"user": "alice"})).await;
    let (_, a) = t.finish(first, Duration::from_secs(10)).await;
    let (_, b) = t.finish(second, Duration::from_secs(10)).await;
    let slot = |events: &[muster_store::EventRecord]| {
        let text = outputs_of(events, "pace")[0]["slot"]
            .as_str()
            .unwrap()
            .to_string();
        chrono::DateTime::parse_from_rfc3339(&text)
            .unwrap()
            .timestamp_millis()
    };
    let gap = (slot(&a) - slot(&b)).abs();
    assert!(
        gap >= 500,
        "slots of one key are at least 500 ms apart, got {gap}"
    );
}

const CHILD: &str = r#"
name: enrich_ip
inputs:
  ip: { type: string }
  depth: { type: integer, default: 1 }
actions:
  - id: start
    type: manual
  - id: check
    type: condition
    options: { when: "{{ start.ip != 'fail' }}" }
  - id: result
    type: exit
    options: { output: { ip: "{{ start.ip }}", depth: "{{ start.depth }}" } }
  - id: broken
    type: set
    options: { x: "{{ start.missing.value }}" }
links: [start -> check, check.true -> result, check.false -> broken]
"#;

#[tokio::test]
async fn run_playbook_continues_with_the_childs_exit_output() {
    let t = common::engine().await;
    t.install(CHILD).await;
    t.install(
        r#"
name: parent
actions:
  - id: start
    type: manual
  - id: call
    type: run_playbook
    options: { playbook: enrich_ip, inputs: { ip: "{{ start.ip }}" } }
  - id: done
    type: exit
    options: { output: "{{ call }}" }
  - id: failed
    type: exit
    options: { output: { failed: "{{ call.message }}" } }
links: [start -> call, call -> done, call.error -> failed]
"#,
    )
    .await;
    let (run, _) = t.run("parent", json!({"ip": "203.0.113.7"})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    assert_eq!(run.output, Some(json!({"ip": "203.0.113.7", "depth": 1})));
    let children = t
        .store
        .runs(&muster_store::RunFilter {
            parent_run: Some(run.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(children.total, 1);
    assert_eq!(children.items[0].playbook, "enrich_ip");

    let (run, _) = t.run("parent", json!({"ip": "fail"})).await;
    let failed = run.output.unwrap()["failed"].as_str().unwrap().to_string();
    assert!(failed.contains("playbook `enrich_ip` failed"), "{failed}");

    let (run, _) = t.run("parent", json!({"ip": 42})).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert!(
        run.output.unwrap()["failed"]
            .as_str()
            .unwrap()
            .contains("input `ip` must be of type")
    );
}

#[tokio::test]
async fn a_runaway_loop_ends_at_the_event_cap() {
    let t = common::engine().await;
    t.install(
        r#"
name: runaway
settings: { max_events_per_run: 50 }
actions:
  - id: start
    type: manual
  - id: again
    type: set
    options: { n: 1 }
links: [start -> again, again -> again]
"#,
    )
    .await;
    let (run, events) = t.run("runaway", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.reason.unwrap().contains("max_events_per_run"));
    assert!(events.len() <= 50);
}

#[tokio::test]
async fn cancelling_a_waiting_run_ends_it() {
    let t = common::engine().await;
    t.install(
        r#"
name: long_wait
actions:
  - id: start
    type: manual
  - id: wait
    type: delay
    options: { duration: 10m }
links: [start -> wait]
"#,
    )
    .await;
    let run = t.start_run("long_wait", json!({})).await;
    wait_for_status(&t, run, RunStatus::Waiting).await;
    t.engine
        .cancel(run, "cancelled by the analyst")
        .await
        .unwrap();
    let record = t.store.run(run).await.unwrap().unwrap();
    assert_eq!(record.status, RunStatus::Cancelled);
    assert!(t.store.run_tasks(run).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_schedule_starts_runs_on_its_own() {
    let t = common::engine().await;
    t.install(
        r#"
name: ticking
actions:
  - id: tick
    type: schedule
    options: { cron: "* * * * * *" }
"#,
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let runs = t.store.runs(&Default::default()).await.unwrap();
        if let Some(run) = runs.items.first() {
            let events = t.store.run_events(run.id).await.unwrap();
            assert!(events[0].output["scheduled_at"].is_string());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled run within 10 s"
        );
        t.engine
            .wait_for_run(muster_model::RunId::new(), Duration::from_millis(100))
            .await;
    }
}

async fn wait_for_status(
    t: &muster_testkit::TestEngine,
    run: muster_model::RunId,
    status: RunStatus,
) -> muster_store::RunRecord {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let record = t.store.run(run).await.unwrap().unwrap();
        if record.status == status {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run stayed {:?}",
            record.status
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An action type that panics, standing in for a bug in an action.
struct Panics;

static PANICS_SPEC: std::sync::LazyLock<muster_engine::ActionSpec> =
    std::sync::LazyLock::new(|| muster_engine::ActionSpec {
        kind: Cow::Borrowed("panics"),
        summary: Cow::Borrowed("Panics."),
        description: Cow::Borrowed("Panics."),
        trigger: false,
        ports: &[],
        options: json!({"type": "object"}),
        example: Cow::Borrowed("- id: boom\n  type: panics\n"),
        side_effects: false,
        inline: false,
    });

#[async_trait::async_trait]
impl muster_engine::Action for Panics {
    fn spec(&self) -> &muster_engine::ActionSpec {
        &PANICS_SPEC
    }

    async fn execute(
        &self,
        _: &muster_engine::ActionContext<'_>,
    ) -> Result<muster_engine::Outcome, muster_engine::ActionError> {
        panic!("index out of bounds in a buggy action")
    }
}

#[tokio::test]
async fn a_panicking_action_fails_its_run_instead_of_the_worker() {
    let mut registry = muster_actions::registry();
    registry.register(Panics);
    let services = muster_actions::services(muster_actions::http::HttpSettings::default()).unwrap();
    let t = muster_testkit::TestEngine::start(registry, services).await;
    t.install(
        r#"
name: buggy
actions:
  - id: start
    type: manual
  - id: boom
    type: panics
links: [start -> boom]
"#,
    )
    .await;
    let (run, _) = t.run("buggy", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.reason.unwrap();
    assert!(
        reason.contains("failed unexpectedly: index out of bounds in a buggy action"),
        "{reason}"
    );
    // The engine still works afterwards.
    t.install(NORMALIZE).await;
    let (run, _) = t
        .run(
            "normalize_alert",
            json!({"src_ip": "203.0.113.7", "count": 1}),
        )
        .await;
    assert_eq!(run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn retention_prunes_finished_runs_past_keep_events_for() {
    let services = muster_actions::services(muster_actions::http::HttpSettings::default()).unwrap();
    let config = muster_engine::EngineConfig {
        retention_interval: Duration::from_millis(100),
        ..muster_testkit::test_config()
    };
    let t =
        muster_testkit::TestEngine::start_with(muster_actions::registry(), services, config).await;
    t.install(
        r#"
name: short_lived
settings: { keep_events_for: 1s }
actions:
  - id: start
    type: manual
  - id: shape
    type: set
    options: { n: 1 }
links: [start -> shape]
"#,
    )
    .await;
    let (run, _) = t.run("short_lived", json!({})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while t.store.run(run.id).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run was not pruned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(t.store.run_events(run.id).await.unwrap().is_empty());
}
