//! Measures webhook intake: concurrent requests to an `accepted` webhook, each answered once
//! its run is durable. Ignored by default; run with
//! `cargo test -p muster-server --release --test webhook_throughput -- --ignored --nocapture`.

mod common;

use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use serde_json::json;

const REQUESTS: usize = 2000;
const CONCURRENCY: usize = 32;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement, not a check; run by hand"]
async fn accepted_webhooks_per_second() {
    let server = Arc::new(common::start().await);
    server
        .install(
            "
name: intake
actions:
  - id: alert
    type: webhook
    options: { path: intake }
  - id: note
    type: set
    options: { ip: \"{{ alert.body.ip }}\" }
links: [alert -> note]
",
        )
        .await;
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let server = server.clone();
        workers.push(tokio::spawn(async move {
            for n in (worker..REQUESTS).step_by(CONCURRENCY) {
                let response = server
                    .client
                    .post(server.url("/hooks/intake"))
                    .json(&json!({"ip": format!("203.0.113.{}", n % 250)}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    let (_, list) = common::json(
        server
            .api(Method::GET, "/api/v1/runs?limit=1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], REQUESTS);
    println!(
        "{REQUESTS} webhook requests, {CONCURRENCY} concurrent: {:.2?} ({:.0} requests/s)",
        elapsed,
        REQUESTS as f64 / elapsed.as_secs_f64()
    );
}
