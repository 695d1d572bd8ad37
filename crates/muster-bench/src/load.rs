//! A closed-loop load generator: `concurrency` connections, each sending the next request as
//! soon as the previous answer arrived, recording each request's latency.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

/// What one load level measured.
#[derive(Debug, Default)]
pub struct LoadResult {
    pub completed: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_failure: Option<String>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }
}

/// The `p`th percentile of sorted latencies in microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted_us.len() - 1) as f64).round() as usize;
    sorted_us[rank] as f64 / 1000.0
}

/// Per-connection tallies of the built-in generator.
#[derive(Default)]
struct Tally {
    completed: u64,
    failed: u64,
    latencies_us: Vec<u64>,
    first_failure: Option<String>,
}

/// Sends POST `path` with `body` over `concurrency` connections for `duration`.
pub async fn run(
    address: SocketAddr,
    path: &str,
    body: &str,
    concurrency: usize,
    duration: Duration,
) -> LoadResult {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let path = path.to_string();
        let body = Bytes::from(body.to_string());
        workers.push(tokio::spawn(async move {
            worker(address, path, body, deadline).await
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        if let Ok(part) = worker.await {
            total.completed += part.completed;
            total.failed += part.failed;
            total.latencies_us.extend(part.latencies_us);
            if total.first_failure.is_none() {
                total.first_failure = part.first_failure;
            }
        }
    }
    total.latencies_us.sort_unstable();
    LoadResult {
        completed: total.completed,
        failed: total.failed,
        elapsed: started.elapsed(),
        p50_ms: percentile_ms(&total.latencies_us, 50.0),
        p99_ms: percentile_ms(&total.latencies_us, 99.0),
        first_failure: total.first_failure,
    }
}

async fn worker(address: SocketAddr, path: String, body: Bytes, deadline: Instant) -> Tally {
    let mut result = Tally::default();
    let mut sender = None;
    while Instant::now() < deadline {
        if sender.is_none() {
            match connect(address).await {
                Ok(s) => sender = Some(s),
                Err(err) => {
                    result.failed += 1;
                    result
                        .first_failure
                        .get_or_insert(format!("connect: {err}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(connection) = sender.as_mut() else {
            continue;
        };
        let request = Request::post(path.as_str())
            .header("host", address.to_string())
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .expect("request");
        let sent = Instant::now();
        match connection.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                let collected = response.into_body().collect().await;
                if status.is_success() && collected.is_ok() {
                    result.completed += 1;
                    result.latencies_us.push(sent.elapsed().as_micros() as u64);
                } else {
                    result.failed += 1;
                    let text = collected
                        .map(|c| String::from_utf8_lossy(&c.to_bytes()).into_owned())
                        .unwrap_or_default();
                    result
                        .first_failure
                        .get_or_insert(format!("HTTP {status}: {text}"));
                }
            }
            Err(err) => {
                result.failed += 1;
                result
                    .first_failure
                    .get_or_insert(format!("request: {err}"));
                sender = None;
            }
        }
    }
    result
}

async fn connect(address: SocketAddr) -> anyhow::Result<http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}
