//! An action's `concurrency` bounds how many of its executions overlap, measured by a local
//! HTTP server that counts the requests it is serving at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use muster_store::RunStatus;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves requests, recording the most in flight at once. Each request is held until
/// `hold_until` requests are in flight (or 300 ms have passed), which makes overlap certain
/// when the engine allows it.
async fn counting_server(hold_until: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (current, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let seen = peak.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let (current, peak) = (current.clone(), peak.clone());
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
                    while current.load(Ordering::SeqCst) < hold_until
                        && tokio::time::Instant::now() < deadline
                    {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    current.fetch_sub(1, Ordering::SeqCst);
                    let body = "{}";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

async fn peak_concurrency(limit: Option<u32>, hold_until: usize) -> usize {
    let (url, peak) = counting_server(hold_until).await;
    let t = common::engine().await;
    let concurrency = limit
        .map(|n| format!("    concurrency: {n}\n"))
        .unwrap_or_default();
    t.install(&format!(
        r#"
name: bounded
actions:
  - id: start
    type: manual
  - id: each
    type: explode
    options: {{ items: "{{{{ range(8) | list }}}}" }}
  - id: lookup
    type: http_request
    options: {{ url: "{url}/item" }}
{concurrency}links: [start -> each, each -> lookup]
"#
    ))
    .await;
    let (run, _) = t.run("bounded", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    peak.load(Ordering::SeqCst)
}

#[tokio::test]
async fn concurrency_bounds_overlapping_executions() {
    // Held until three are in flight: only reachable when nothing bounds the executions.
    assert!(
        peak_concurrency(None, 3).await >= 3,
        "without a limit the requests overlap"
    );
    assert!(
        peak_concurrency(Some(2), 3).await <= 2,
        "the limit holds while requests wait"
    );
}
