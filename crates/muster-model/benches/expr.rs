//! Rendering cost of a typical action's options against a four-event chain: compile once,
//! render many times.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use muster_model::expr::{Expressions, Scope};
use muster_model::{ContextNode, EventId};
use serde_json::json;

fn chain() -> Arc<ContextNode> {
    let alert = ContextNode::new(
        EventId::new(),
        "alert",
        Arc::new(json!({
            "body": {
                "sourceAddress": "203.0.113.7",
                "count": "12",
                "user": "jdoe",
                "rule": "VPN brute force",
                "raw": "x".repeat(2000),
            }
        })),
        None,
    );
    let normalize = ContextNode::new(
        EventId::new(),
        "normalize",
        Arc::new(json!({"source_ip": "203.0.113.7", "failures": 12})),
        Some(alert),
    );
    let check = ContextNode::new(
        EventId::new(),
        "enough_failures",
        Arc::new(json!({"result": true})),
        Some(normalize),
    );
    ContextNode::new(
        EventId::new(),
        "reputation",
        Arc::new(json!({"score": 87, "country": "NL", "tags": ["scanner", "tor"]})),
        Some(check),
    )
}

fn options() -> serde_json::Value {
    json!({
        "method": "POST",
        "url": "https://fw.example.net/api/block",
        "content_type": "application/json",
        "retry": "3",
        "comment_prefix": "muster",
        "json": {
            "ip": "{{ alert.body.src_ip or normalize.source_ip }}",
            "score": "{{ reputation.score }}",
        },
        "comment": "Blocked {{ normalize.source_ip }} after {{ normalize.failures }} failures (score {{ reputation.score }}, task {{ task.id }})",
    })
}

fn render(c: &mut Criterion) {
    let chain = chain();
    let exprs = Expressions::new();
    let compiled = exprs.compile(&options()).expect("options compile");
    let task = minijinja::Value::from(minijinja::value::Serde(json!({"id": "0190c2b2-task"})));
    let scope = Scope::new(Some(&chain)).with("task", task.clone());
    // Warm the per-event conversion caches as the engine would after the first render.
    compiled.render(&scope).expect("renders");

    c.bench_function(
        "render typical options (5 literals, 2 typed, 1 template)",
        |b| {
            b.iter(|| {
                let scope = Scope::new(Some(&chain)).with("task", task.clone());
                black_box(compiled.render(black_box(&scope)).expect("renders"))
            })
        },
    );

    let condition = exprs
        .compile_expr("normalize.failures >= 10 and not reputation.score < 50")
        .expect("condition compiles");
    c.bench_function("evaluate a condition", |b| {
        b.iter(|| black_box(condition.eval_bool(black_box(&scope)).expect("evaluates")))
    });

    c.bench_function("compile typical options", |b| {
        b.iter(|| black_box(exprs.compile(black_box(&options())).is_ok()))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
