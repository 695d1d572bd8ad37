//! A real server for the tests: the engine on a SQLite store in a temporary directory, the
//! router on a loopback port, and a reqwest client.

#![allow(dead_code)]

use std::time::Duration;

use muster_model::RunId;
use muster_server::{ServerConfig, router, serve};
use muster_store::{RunRecord, Store};
use muster_testkit::TestEngine;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;

pub const TOKEN: &str = "test-token-5b1f0c";

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub engine: TestEngine,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server with default settings.
pub async fn start() -> Server {
    start_with(|_| {}).await
}

/// Starts a server after `adjust` changed its settings.
pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Server {
    // Also installs the process's TLS crypto provider, which reqwest needs.
    // Loopback is allowed explicitly: the tests' mock services listen there.
    let http = muster_actions::http::HttpSettings {
        allow: muster_actions::http::AllowList::loopback(),
        ..muster_actions::http::HttpSettings::default()
    };
    let services = muster_actions::services(http).expect("building the HTTP client");
    let engine = TestEngine::start(muster_actions::registry(), services).await;
    let mut config = ServerConfig::new(TOKEN);
    adjust(&mut config);
    let app = router(engine.engine.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async move {
        let _ = stopped.await;
    }));
    Server {
        base,
        client: reqwest::Client::new(),
        engine,
        stop: Some(stop),
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the API token.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(TOKEN)
    }

    /// Imports a YAML playbook, asserting success.
    pub async fn install(&self, yaml: &str) -> Value {
        let response = self
            .api(Method::POST, "/api/v1/playbooks")
            .header("content-type", "application/yaml")
            .body(yaml.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "import failed with {status}: {body}");
        body
    }

    /// Starts a run through the API and returns its id.
    pub async fn start_run(&self, playbook: &str, payload: Value) -> RunId {
        let response = self
            .api(Method::POST, &format!("/api/v1/playbooks/{playbook}/runs"))
            .json(&payload)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 202, "{body}");
        body["run_id"].as_str().unwrap().parse().unwrap()
    }

    /// Waits (up to 10 s) for the run to end.
    pub async fn finish(&self, run: RunId) -> RunRecord {
        self.engine
            .engine
            .wait_until_finished(run, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("run {run} did not finish"));
        self.engine
            .store
            .run(run)
            .await
            .unwrap()
            .expect("the run exists")
    }
}

/// The status and JSON body of a response.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("not JSON ({err}), status {status}: {text}"));
    (status, body)
}
