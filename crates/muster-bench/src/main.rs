//! `muster-bench`: the standard workload — webhook → set → condition → http_request to a mock
//! threat-intel API → exit — against a real `muster serve` process on loopback, with every
//! event durably recorded. Prints runs/s, p50 and p99 webhook-to-completion latency and the
//! server's peak RSS per concurrency level.
//!
//! Build and run: `cargo build --release -p muster-cli -p muster-bench && target/release/muster-bench`.

mod load;
mod mock;
mod server;
mod wrk;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmark the standard Muster workload over loopback.")]
struct Args {
    /// The muster binary (default: `muster` next to this binary).
    #[arg(long)]
    muster: Option<PathBuf>,
    /// Concurrency levels (closed-loop connections).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    levels: Vec<usize>,
    /// Measured seconds per level.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Warm-up seconds before each level (not measured).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// SQLite durability: `full` (fsync per commit group) or `normal`.
    #[arg(long, default_value = "full")]
    synchronous: String,
    /// The load generator: `wrk` (default when installed) or `builtin`.
    #[arg(long)]
    driver: Option<String>,
}

const ALERT: &str =
    r#"{"src_ip":"203.0.113.7","event_type":"brute_force","user":"alice","count":12}"#;

fn playbook(mock: std::net::SocketAddr) -> String {
    format!(
        r#"name: bench_alert
description: The standard benchmark workload.
actions:
  - id: alert
    type: webhook
    options: {{ path: alert, response: exit }}
  - id: normalize
    type: set
    options:
      source_ip: "{{{{ alert.body.src_ip }}}}"
      alert_type: "{{{{ alert.body.event_type }}}}"
      user: "{{{{ alert.body.user }}}}"
      count: "{{{{ alert.body.count | int }}}}"
  - id: enough
    type: condition
    options: {{ when: "{{{{ normalize.count > 5 }}}}" }}
  - id: reputation
    type: http_request
    options:
      url: "http://{mock}/api/v2/check"
      query: {{ ipAddress: "{{{{ normalize.source_ip }}}}" }}
  - id: verdict
    type: exit
    options:
      output:
        source_ip: "{{{{ normalize.source_ip }}}}"
        alert_type: "{{{{ normalize.alert_type }}}}"
        user: "{{{{ normalize.user }}}}"
        count: "{{{{ normalize.count }}}}"
        abuse_score: "{{{{ reputation.body.data.abuseConfidenceScore }}}}"
        verdict: "{{{{ 'block' if reputation.body.data.abuseConfidenceScore > 50 else 'allow' }}}}"
  - id: ignored
    type: exit
    options: {{ output: {{ status: ignored }} }}
links:
  - alert -> normalize
  - normalize -> enough
  - enough.true -> reputation
  - enough.false -> ignored
  - reputation -> verdict
"#
    )
}

fn main() -> Result<()> {
    let args = Args::parse();
    let muster = match args.muster.clone() {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("locating the muster binary")?
            .join("muster"),
    };
    if !muster.exists() {
        bail!(
            "{} not found; build it with `cargo build --release -p muster-cli`",
            muster.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args, muster))
}

/// Sends load at one concurrency level for `duration`.
async fn drive(
    wrk: Option<&std::path::Path>,
    address: std::net::SocketAddr,
    level: usize,
    duration: Duration,
) -> Result<load::LoadResult> {
    match wrk {
        Some(wrk) => {
            let wrk = wrk.to_path_buf();
            tokio::task::spawn_blocking(move || {
                wrk::run(&wrk, address, "/hooks/alert", ALERT, level, duration)
            })
            .await?
        }
        None => Ok(load::run(address, "/hooks/alert", ALERT, level, duration).await),
    }
}

async fn run(args: Args, muster: PathBuf) -> Result<()> {
    let wrk = match args.driver.as_deref() {
        None => wrk::find(),
        Some("wrk") => Some(wrk::find().context("--driver wrk: wrk is not on the PATH")?),
        Some("builtin") => None,
        Some(other) => bail!("unknown --driver {other} (use wrk or builtin)"),
    };
    let (mock, mock_stats) = mock::start()?;
    let server = server::Server::start(&muster, &args.synchronous).await?;
    server.import(&playbook(mock)).await?;
    println!(
        "workload: webhook -> set -> condition -> http_request (mock) -> exit; synchronous={}; load from {}; {}s per level after {}s warm-up",
        args.synchronous,
        if wrk.is_some() {
            "wrk"
        } else {
            "the built-in generator"
        },
        args.seconds,
        args.warmup
    );
    println!(
        "{:>5} {:>10} {:>9} {:>9} {:>8} {:>12} {:>11} {:>10} {:>9}",
        "conc",
        "runs/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "peak RSS MB",
        "server CPU",
        "bench CPU",
        "fsync ms"
    );
    let mut answered = 0;
    for &level in &args.levels {
        let warm = drive(
            wrk.as_deref(),
            server.address,
            level,
            Duration::from_secs(args.warmup),
        )
        .await?;
        let fsync_ms = server.fsync_ms();
        server.reset_peak_rss();
        let (server_cpu, bench_cpu) =
            (server.cpu_seconds(), server::cpu_seconds("/proc/self/stat"));
        let result = drive(
            wrk.as_deref(),
            server.address,
            level,
            Duration::from_secs(args.seconds),
        )
        .await?;
        let elapsed = result.elapsed.as_secs_f64();
        let server_cpu = (server.cpu_seconds() - server_cpu) / elapsed * 100.0;
        let bench_cpu = (server::cpu_seconds("/proc/self/stat") - bench_cpu) / elapsed * 100.0;
        answered += warm.completed + result.completed;
        println!(
            "{:>5} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>12.1} {:>10.0}% {:>9.0}% {:>9.2}",
            level,
            result.per_second(),
            result.p50_ms,
            result.p99_ms,
            result.failed + warm.failed,
            server.peak_rss_mb().unwrap_or(f64::NAN),
            server_cpu,
            bench_cpu,
            fsync_ms
        );
        if let Some(failure) = result.first_failure.or(warm.first_failure) {
            println!("      first failure: {failure}");
        }
    }
    let recorded = server.succeeded_runs().await?;
    println!(
        "answered requests: {answered}; succeeded runs recorded in the store: {recorded}; mock requests: {}",
        mock_stats.requests()
    );
    if recorded < answered {
        bail!(
            "{} answered runs are missing from the store",
            answered - recorded
        );
    }
    server.stop();
    Ok(())
}
