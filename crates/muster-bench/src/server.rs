//! The `muster serve` process under test: started on a free loopback port with a temporary
//! data directory, driven through its API, measured through `/proc`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

const TOKEN: &str = "bench-token";

pub struct Server {
    pub address: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(muster: &Path, synchronous: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let child = Command::new(muster)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--listen")
            .arg(address.to_string())
            .env("MUSTER_API_TOKEN", TOKEN)
            .env("MUSTER_STORE_SYNCHRONOUS", synchronous)
            .env("MUSTER_LOG", "warn")
            // The mock service listens on loopback, which an operator must allow.
            .env("MUSTER_HTTP_ALLOW", "127.0.0.0/8")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", muster.display()))?;
        let server = Self {
            address,
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(request(address, "GET", "/readyz", None).await, Ok((200, _))) {
            if Instant::now() > deadline {
                bail!("muster did not become ready within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    pub async fn import(&self, yaml: &str) -> Result<()> {
        let (status, body) = request(self.address, "POST", "/api/v1/playbooks", Some(yaml)).await?;
        if !(200..300).contains(&status) {
            bail!("importing the benchmark playbook failed ({status}): {body}");
        }
        Ok(())
    }

    pub async fn succeeded_runs(&self) -> Result<u64> {
        let (_, body) = request(
            self.address,
            "GET",
            "/api/v1/runs?status=succeeded&limit=1",
            None,
        )
        .await?;
        let doc: serde_json::Value = serde_json::from_str(&body)?;
        doc["total"].as_u64().context("no total in the run listing")
    }

    /// Mean latency of a 4 KiB synchronous (`O_DSYNC`) write in the server's data directory, in
    /// milliseconds: the disk's sync latency right now, which bounds the commit rate.
    pub fn fsync_ms(&self) -> f64 {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.dir.path().join("fsync-probe");
        let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .custom_flags(0o10000) // O_DSYNC
            .open(&path)
        else {
            return f64::NAN;
        };
        let block = [0u8; 4096];
        let rounds = 50;
        let started = Instant::now();
        for _ in 0..rounds {
            if file.write_all(&block).is_err() {
                return f64::NAN;
            }
        }
        let _ = std::fs::remove_file(&path);
        started.elapsed().as_secs_f64() * 1000.0 / rounds as f64
    }

    /// Resets the kernel's peak-RSS mark of the server process.
    pub fn reset_peak_rss(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Peak resident memory since the last reset, in MiB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// CPU seconds (user + system) the server process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", address.to_string())
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/yaml")
        .body(Full::new(Bytes::from(body.unwrap_or_default().to_string())))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// User plus system CPU seconds from a `/proc/…/stat` file (0 when unreadable).
pub fn cpu_seconds(stat: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) are space-separated; utime
    // and stime are the 14th and 15th fields of the line.
    let Some(rest) = text.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}
