//! A mock threat-intel API on loopback: answers every request with an AbuseIPDB-like JSON
//! document naming the queried IP, with keep-alive. Runs on its own thread and runtime so that
//! its work is not counted against the engine's.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Counts the requests the mock answered.
#[derive(Clone, Default)]
pub struct MockStats(Arc<AtomicU64>);

impl MockStats {
    pub fn requests(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Starts the mock; returns its address and request counter.
pub fn start() -> anyhow::Result<(SocketAddr, MockStats)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let stats = MockStats::default();
    let counter = stats.clone();
    std::thread::Builder::new().name("mock-ti".into()).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("mock runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("mock listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let counter = counter.clone();
                        async move {
                            counter.0.fetch_add(1, Ordering::Relaxed);
                            let ip = request
                                .uri()
                                .query()
                                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ipAddress=")))
                                .unwrap_or("0.0.0.0")
                                .to_string();
                            let body = serde_json::json!({
                                "data": {"ipAddress": ip, "abuseConfidenceScore": 87, "countryCode": "NL", "totalReports": 42}
                            });
                            Ok::<_, Infallible>(
                                Response::builder()
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body.to_string())))
                                    .expect("mock response"),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    })?;
    Ok((address, stats))
}
