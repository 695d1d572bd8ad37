//! The store's write path in isolation: a burst of runs, each started with the five events of
//! the standard benchmark workload (webhook, set, condition, http_request, exit) and finished
//! in the same write, submitted 16 at a time like concurrent webhooks. Measures the writer's
//! CPU cost per run, without the disk's sync latency (`synchronous = normal`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use muster_model::{EventId, RunId};
use muster_store::*;
use serde_json::json;

fn event(action: &str, parent: Option<EventId>, output: &serde_json::Value) -> NewEvent {
    NewEvent {
        id: EventId::new(),
        parent,
        action: action.into(),
        port: "out".into(),
        output_json: output.to_string(),
        task: None,
    }
}

fn start() -> StartRun {
    let trigger_output = json!({"method": "POST", "path": "alert", "headers": {"content-type": "application/json", "host": "127.0.0.1:8080", "user-agent": "wrk"}, "query": {}, "body": {"src_ip": "203.0.113.7", "event_type": "brute_force", "user": "alice", "count": 12}});
    let trigger = event("alert", None, &trigger_output);
    let set = event(
        "normalize",
        Some(trigger.id),
        &json!({"source_ip": "203.0.113.7", "alert_type": "brute_force", "user": "alice", "count": 12}),
    );
    let condition = event("enough", Some(set.id), &json!({"result": true}));
    let http = event(
        "reputation",
        Some(condition.id),
        &json!({"status": 200, "headers": {"content-type": "application/json", "content-length": "96"}, "body": {"data": {"ipAddress": "203.0.113.7", "abuseConfidenceScore": 87, "countryCode": "NL", "totalReports": 42}}}),
    );
    let output = json!({"source_ip": "203.0.113.7", "abuse_score": 87, "verdict": "block"});
    let exit = event("verdict", Some(http.id), &output);
    StartRun {
        run: NewRun {
            id: RunId::new(),
            playbook: "bench_alert".into(),
            version: 1,
            trigger_action: "alert".into(),
            parent: None,
        },
        trigger,
        events: vec![set, condition, http, exit],
        tasks: vec![],
        run_output: Some(output.to_string()),
        once_key: None,
        schedule_next: None,
        max_events: 10_000,
        now: now_millis(),
    }
}

fn runs(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open(dir.path(), options).unwrap();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(16));
    group.bench_function("16 finished runs of 5 events", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let tickets: Vec<_> = (0..16).map(|_| store.start_run(start())).collect();
                for ticket in tickets {
                    ticket.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, runs);
criterion_main!(benches);
