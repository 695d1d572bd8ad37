//! Throughput of indicator extraction over a few MB of mixed text: the test corpus (threat
//! reports, emails, logs, defanged posts, HTML) interleaved with plain prose, the corpus
//! alone (dense with indicators), and prose alone. Sizes of 1 and 4 MB show that the cost is
//! linear.
//!
//! Times are the CPU time of the benchmarking thread, not wall-clock time, so that other
//! processes on a shared machine do not distort the result: the numbers are throughput on
//! one core.
//!
//! Run with `cargo bench -p muster-intel --bench ioc`.

use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use cpu_time::ThreadTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use muster_intel::defang::refang;
use muster_intel::ioc::{ExtractOptions, extract};

const PROSE: &str = "The incident response team reviewed the timeline with the affected \
business unit and agreed on the containment steps. Several users reported slow logins after \
the password reset, which turned out to be caused by the identity provider's rate limits. \
No further suspicious activity was observed during the following week, and the case was \
closed after the lessons-learned meeting on Friday. Version 10.0.19041.1 of the agent, \
released on 2026-03-02, fixes the memory leak; see the changelog for details (e.g. items \
4.2 and 4.3). ";

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut documents: Vec<_> = fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "expected"))
        .collect();
    documents.sort();
    documents
        .iter()
        .map(|p| String::from_utf8_lossy(&fs::read(p).expect("corpus document")).into_owned())
        .collect()
}

/// About `size` bytes: corpus documents, each followed by `prose_ratio` times its length of
/// plain prose, repeated.
fn mixed_text(size: usize, prose_ratio: usize) -> String {
    let documents = corpus();
    let mut text = String::with_capacity(size + 64 * 1024);
    while text.len() < size {
        for document in &documents {
            text.push_str(document);
            text.push('\n');
            let prose_end = text.len() + prose_ratio * document.len();
            while text.len() < prose_end {
                text.push_str(PROSE);
            }
            text.push('\n');
        }
    }
    text
}

/// CPU time of this thread for running `work` `iterations` times.
fn cpu_time_of(iterations: u64, mut work: impl FnMut() -> usize) -> Duration {
    let start = ThreadTime::now();
    for _ in 0..iterations {
        black_box(work());
    }
    start.elapsed()
}

fn bench_extract(c: &mut Criterion) {
    let options = ExtractOptions::default();
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    let inputs = [
        // Two thirds prose, one third reports, emails and logs.
        ("mixed", 1usize, mixed_text(1 << 20, 2)),
        ("mixed", 4, mixed_text(4 << 20, 2)),
        // The corpus alone: every line holds indicators.
        ("corpus", 4, mixed_text(4 << 20, 0)),
        ("prose", 4, PROSE.repeat((4 << 20) / PROSE.len())),
    ];
    for (name, megabytes, text) in &inputs {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new(*name, megabytes), text, |b, text| {
            b.iter_custom(|iterations| {
                cpu_time_of(iterations, || extract(black_box(text), &options).len())
            })
        });
    }
    group.finish();
}

fn bench_refang(c: &mut Criterion) {
    let text = mixed_text(4 << 20, 2);
    let mut group = c.benchmark_group("refang");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("mixed/4", |b| {
        b.iter_custom(|iterations| cpu_time_of(iterations, || refang(black_box(&text)).len()))
    });
    group.finish();
}

criterion_group!(benches, bench_extract, bench_refang);
criterion_main!(benches);
