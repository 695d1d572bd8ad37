//! Email analysis throughput over the realistic fixture messages in `tests/emails/`.
//!
//! `email/full` is what `muster intel email` does (indicator extraction included);
//! `email/structure` leaves the IOC extractor out, to separate its cost.
//! Run: `cargo bench -p muster-intel --bench email`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use muster_intel::email::{EmailOptions, parse_with};

fn fixtures() -> Vec<Vec<u8>> {
    let dir = format!("{}/tests/emails", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("fixture"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let messages = fixtures();
    let mut group = c.benchmark_group("email");
    group.throughput(Throughput::Elements(messages.len() as u64));
    for (name, options) in [
        ("full", EmailOptions::default()),
        (
            "structure",
            EmailOptions {
                extract_iocs: false,
                ..EmailOptions::default()
            },
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for message in &messages {
                    black_box(parse_with(black_box(message), &options));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
