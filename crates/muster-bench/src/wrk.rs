//! Driving the load with `wrk` (when installed), the generator the peer benchmarks used: it
//! costs the shared cores less than the built-in one, so more of them go to the server.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::load::LoadResult;

/// A wrk script that POSTs `body` and prints one machine-readable result line.
fn script(body: &str) -> String {
    // A Lua long bracket takes the body verbatim (it never contains `]==]`).
    format!(
        r#"wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d failed=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"#
    )
}

/// Finds `wrk` on the PATH.
pub fn find() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("wrk"))
            .find(|candidate| candidate.is_file())
    })
}

pub fn run(
    wrk: &Path,
    address: SocketAddr,
    path: &str,
    body: &str,
    concurrency: usize,
    duration: Duration,
) -> Result<LoadResult> {
    let dir = tempfile::tempdir()?;
    let script_path = dir.path().join("post.lua");
    std::fs::write(&script_path, script(body))?;
    let output = Command::new(wrk)
        .arg("-t1")
        .arg(format!("-c{concurrency}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(&script_path)
        .arg(format!("http://{address}{path}"))
        .output()
        .with_context(|| format!("running {}", wrk.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("WRK_RESULT"))
        .with_context(|| {
            format!(
                "wrk printed no result: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let field = |name: &str| -> Result<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name} in {line}"))
    };
    let requests = field("requests")?;
    let failed = field("failed")?;
    if requests < failed {
        bail!("wrk counted more failures than requests: {line}");
    }
    Ok(LoadResult {
        completed: (requests - failed) as u64,
        failed: failed as u64,
        elapsed: Duration::from_micros(field("duration_us")? as u64),
        p50_ms: field("p50_us")? / 1000.0,
        p99_ms: field("p99_us")? / 1000.0,
        first_failure: (failed > 0.0).then(|| format!("{failed} failed requests (wrk)")),
    })
}
