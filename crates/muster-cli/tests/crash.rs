//! Crash recovery with real processes: 1,000 webhook events into a playbook with an HTTP call,
//! a delay and an explode/implode, the server killed with SIGKILL twice in the middle and
//! restarted. Every run must end, every action's output must be recorded exactly once per
//! input event, and the local HTTP server must have seen every request at least once.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use support::Muster;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EVENTS: usize = 1000;
const SENDERS: usize = 16;

fn playbook(mock: &str) -> String {
    format!(
        r#"
name: crash_drill
actions:
  - id: alert
    type: webhook
    options: {{ path: drill }}
  - id: normalize
    type: set
    options: {{ n: "{{{{ alert.body.n }}}}" }}
  - id: lookup
    type: http_request
    options:
      url: "{mock}/lookup"
      query: {{ n: "{{{{ normalize.n }}}}" }}
    retry: {{ attempts: 20, backoff: 50ms, max_backoff: 1s }}
  - id: pause
    type: delay
    options: {{ duration: 300ms }}
  - id: each
    type: explode
    options: {{ items: [1, 2, 3] }}
  - id: scaled
    type: set
    options: {{ value: "{{{{ each.item * normalize.n }}}}" }}
  - id: all
    type: implode
    options: {{ item: "{{{{ scaled.value }}}}", timeout: 10m }}
  - id: done
    type: exit
    options: {{ output: {{ n: "{{{{ normalize.n }}}}", total: "{{{{ all['items'] | sum }}}}" }} }}
links:
  - alert -> normalize
  - normalize -> lookup
  - lookup -> pause
  - pause -> each
  - each -> scaled
  - scaled -> all
  - all -> done
"#
    )
}

/// Sends event `n` until the server acknowledges it; the idempotency key makes a repeat of an
/// event whose acknowledgement was lost in the crash start no second run.
async fn send(client: &reqwest::Client, url: &str, n: usize) {
    loop {
        let sent = client
            .post(format!("{url}/hooks/drill"))
            .header("Idempotency-Key", format!("event-{n}"))
            .json(&json!({ "n": n }))
            .send()
            .await;
        if let Ok(response) = sent
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_event_is_lost_or_recorded_twice_across_kills() {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/lookup"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&mock)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut muster = Muster::start(&data).await;
    muster.import(&playbook(&mock.uri())).await;
    let url = muster.url.clone();

    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (next, acked, url) = (next.clone(), acked.clone(), url.clone());
        senders.push(tokio::spawn(async move {
            let client = support::client();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= EVENTS {
                    return;
                }
                send(&client, &url, n).await;
                acked.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    for kill_at in [EVENTS * 3 / 10, EVENTS * 7 / 10] {
        while acked.load(Ordering::SeqCst) < kill_at {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        muster.kill();
        muster = Muster::start_on(&data, muster.port).await;
    }
    for sender in senders {
        sender.await.unwrap();
    }

    muster
        .eventually(Duration::from_secs(120), "every run to end", || async {
            let page = muster.get("/api/v1/runs?limit=1&status=succeeded").await;
            let failed = muster.get("/api/v1/runs?limit=1&status=failed").await;
            assert_eq!(failed["total"], 0, "a run failed: {}", failed["items"]);
            page["total"].as_u64() == Some(EVENTS as u64)
        })
        .await;

    let runs = muster.all_runs("").await;
    assert_eq!(runs.len(), EVENTS, "one run per event, no duplicates");
    let expected: BTreeMap<&str, usize> = [
        ("alert", 1),
        ("normalize", 1),
        ("lookup", 1),
        ("pause", 1),
        ("each", 3),
        ("scaled", 3),
        ("all", 1),
        ("done", 1),
    ]
    .into();
    let mut seen_n = HashSet::new();
    for run in &runs {
        assert_eq!(run["status"], "succeeded");
        let detail = muster
            .get(&format!("/api/v1/runs/{}", run["id"].as_str().unwrap()))
            .await;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for event in detail["events"].as_array().unwrap() {
            *counts.entry(event["action"].as_str().unwrap()).or_default() += 1;
        }
        let counts: BTreeMap<&str, usize> = counts.into_iter().collect();
        assert_eq!(counts, expected, "events of run {}", run["id"]);
        let n = detail["output"]["n"].as_u64().unwrap();
        assert_eq!(detail["output"]["total"], json!(6 * n));
        assert!(seen_n.insert(n), "event {n} has two runs");
    }
    assert_eq!(seen_n.len(), EVENTS);

    let requests = mock.received_requests().await.unwrap();
    let asked: HashSet<String> = requests
        .iter()
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "n")
                .map(|(_, v)| v.to_string())
        })
        .collect();
    for n in 0..EVENTS {
        assert!(
            asked.contains(&n.to_string()),
            "the HTTP server never saw event {n}"
        );
    }
}
