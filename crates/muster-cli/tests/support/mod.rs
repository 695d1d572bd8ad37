//! A real `muster serve` process for tests: started on a free loopback port with its own data
//! directory, driven through its HTTP API, killed with SIGKILL when a test asks for it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const TOKEN: &str = "test-token";

pub struct Muster {
    pub url: String,
    pub port: u16,
    pub data_dir: PathBuf,
    child: Option<Child>,
    client: reqwest::Client,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

impl Muster {
    /// Starts `muster serve` on `data_dir` and waits until it is ready.
    pub async fn start(data_dir: &Path) -> Self {
        Self::start_on(data_dir, free_port()).await
    }

    pub async fn start_on(data_dir: &Path, port: u16) -> Self {
        Self::start_with_env(data_dir, port, &[]).await
    }

    /// Starts `muster serve` with extra environment variables (which win over the defaults).
    /// Its stdout and stderr go to `<data-dir>.log`.
    pub async fn start_with_env(data_dir: &Path, port: u16, env: &[(&str, &str)]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.with_extension("log"))
            .unwrap();
        let child = serve_command(data_dir, port, env)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting muster serve");
        let muster = Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            data_dir: data_dir.to_path_buf(),
            child: Some(child),
            client: client(),
        };
        muster.wait_ready().await;
        muster
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = self.client.get(format!("{}/readyz", self.url)).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "muster did not become ready; log: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// Kills the process with SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub async fn import(&self, yaml: &str) {
        let response = self
            .client
            .post(format!("{}/api/v1/playbooks", self.url))
            .bearer_auth(TOKEN)
            .header("content-type", "application/yaml")
            .body(yaml.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "import failed: {status} {}",
            response.text().await.unwrap()
        );
    }

    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Every run, following pages.
    pub async fn all_runs(&self, query: &str) -> Vec<Value> {
        let mut runs = Vec::new();
        loop {
            let page = self
                .get(&format!(
                    "/api/v1/runs?limit=500&offset={}&{query}",
                    runs.len()
                ))
                .await;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            let done = items.len() < 500;
            runs.extend(items);
            if done {
                return runs;
            }
        }
    }

    /// Polls until `check` holds, up to `timeout`.
    pub async fn eventually<F, Fut>(&self, timeout: Duration, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        while !check().await {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; log: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `muster serve` on `data_dir` with the tests' settings and `env` on top.
pub fn serve_command(data_dir: &Path, port: u16, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
    command
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("MUSTER_API_TOKEN", TOKEN)
        .env("MUSTER_LOG", "warn")
        .env("MUSTER_ENGINE_POLL_INTERVAL", "100ms")
        // The tests' mock services listen on loopback, which an operator must allow.
        .env("MUSTER_HTTP_ALLOW", "127.0.0.0/8")
        .env_remove("MUSTER_MASTER_KEY")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `muster serve` expecting it to stop at start-up; returns its exit code and stderr.
pub async fn serve_fails(data_dir: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut command = tokio::process::Command::from(serve_command(data_dir, free_port(), env));
    command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("muster serve should have stopped at start-up, but it is still running")
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Drop for Muster {
    fn drop(&mut self) {
        self.kill();
    }
}
