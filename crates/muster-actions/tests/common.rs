//! Shared set-up for the end-to-end action tests.

#![allow(dead_code)]

use muster_actions::http::{AllowList, HttpSettings};
use muster_testkit::TestEngine;

/// HTTP settings for tests against local servers: loopback is allowed explicitly, as an
/// operator would allow it in `[http] allow`.
pub fn loopback_http() -> HttpSettings {
    HttpSettings {
        allow: AllowList::loopback(),
        ..HttpSettings::default()
    }
}

pub async fn engine() -> TestEngine {
    engine_with(loopback_http()).await
}

pub async fn engine_with(http: HttpSettings) -> TestEngine {
    let services = muster_actions::services(http).unwrap();
    TestEngine::start(muster_actions::registry(), services).await
}

/// A one-purpose HTTP server on loopback for responses a mock framework will not send (a
/// false `Content-Length`, an endless chunked body): every connection gets its request read,
/// then `respond` writes whatever it wants to the socket.
pub async fn raw_server<F, Fut>(respond: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let respond = std::sync::Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                respond(socket).await;
            });
        }
    });
    url
}

/// Polls the run until it has `status`, for up to 10 s.
pub async fn wait_for_status(
    t: &TestEngine,
    run: muster_model::RunId,
    status: muster_store::RunStatus,
) -> muster_store::RunRecord {
    use muster_store::Store;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let record = t.store.run(run).await.unwrap().unwrap();
        if record.status == status {
            return record;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {run} never became {status:?}; it is {:?} ({:?})",
            record.status,
            record.reason
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
