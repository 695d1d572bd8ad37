//! The expression language's core rules: typed values, templates, literals, strictness,
//! fallbacks and the scope.

use std::sync::Arc;

use muster_model::ContextNode;
use muster_model::EventId;
use muster_model::expr::{Expressions, RenderError, Scope};
use serde_json::{Value, json};

fn chain() -> Arc<ContextNode> {
    let alert = ContextNode::new(
        EventId::new(),
        "alert",
        Arc::new(json!({
            "body": {
                "sourceAddress": "203.0.113.7",
                "remote-ip-address": "198.51.100.9",
                "count": "12",
                "user": {"name": "jdoe", "groups": ["vpn", "staff"]},
                "empty": "",
                "zero": 0,
                "nothing": null
            },
            "headers": {"X-Request-Id": "abc"}
        })),
        None,
    );
    let normalize = ContextNode::new(
        EventId::new(),
        "normalize",
        Arc::new(json!({"source_ip": "203.0.113.7", "failures": 12})),
        Some(alert),
    );
    ContextNode::new(
        EventId::new(),
        "reputation",
        Arc::new(json!({"score": 87, "tags": ["scanner", "tor"]})),
        Some(normalize),
    )
}

fn render(template: Value) -> Result<Value, RenderError> {
    let chain = chain();
    let compiled = Expressions::new()
        .compile(&template)
        .unwrap_or_else(|problems| panic!("compile failed: {problems:?}"));
    compiled.render(&Scope::new(Some(&chain)))
}

fn ok(template: Value) -> Value {
    render(template.clone()).unwrap_or_else(|err| panic!("{template}: {err}"))
}

fn err(template: Value) -> RenderError {
    match render(template.clone()) {
        Ok(value) => panic!("{template} should fail, rendered {value}"),
        Err(err) => err,
    }
}

#[test]
fn typed_expressions_keep_their_type() {
    assert_eq!(ok(json!("{{ normalize.failures }}")), json!(12));
    assert_eq!(ok(json!("  {{ normalize.failures >= 10 }}  ")), json!(true));
    assert_eq!(
        ok(json!("{{ reputation.tags }}")),
        json!(["scanner", "tor"])
    );
    assert_eq!(
        ok(json!("{{ alert.body.user }}")),
        json!({"name": "jdoe", "groups": ["vpn", "staff"]})
    );
    assert_eq!(ok(json!("{{ alert.body.nothing }}")), Value::Null);
    assert_eq!(ok(json!("{{ 1.5 }}")), json!(1.5));
    assert_eq!(ok(json!("{{- 'trimmed' -}}")), json!("trimmed"));
    assert_eq!(ok(json!("{{ {'a': [1, 2]} }}")), json!({"a": [1, 2]}));
}

#[test]
fn templates_render_to_strings() {
    assert_eq!(
        ok(json!(
            "ip={{ normalize.source_ip }} score={{ reputation.score }}"
        )),
        json!("ip=203.0.113.7 score=87")
    );
    assert_eq!(ok(json!("{{ 1 }}{{ 2 }}")), json!("12"));
    assert_eq!(
        ok(json!("{% for t in reputation.tags %}[{{ t }}]{% endfor %}")),
        json!("[scanner][tor]")
    );
    assert_eq!(
        ok(json!("{% if reputation.score > 50 %}bad{% endif %}")),
        json!("bad")
    );
}

#[test]
fn other_strings_are_literals() {
    assert_eq!(
        ok(json!("plain {text} with } braces")),
        json!("plain {text} with } braces")
    );
    assert_eq!(
        ok(json!("{# not a comment marker for us")),
        json!("{# not a comment marker for us")
    );
    let compiled = Expressions::new()
        .compile(&json!({"a": "x", "b": [1, "y", {"c": true}]}))
        .unwrap();
    assert!(compiled.is_static());
    assert!(
        !Expressions::new()
            .compile(&json!({"a": ["{{ 1 }}"]}))
            .unwrap()
            .is_static()
    );
}

#[test]
fn objects_and_arrays_are_walked_and_keys_stay_literal() {
    let rendered = ok(json!({
        "json": {"ip": "{{ normalize.source_ip }}", "ttl": 86400},
        "{{ key }}": ["{{ reputation.score + 1 }}", "static", "n={{ 2 * 3 }}"],
    }));
    assert_eq!(
        rendered,
        json!({
            "json": {"ip": "203.0.113.7", "ttl": 86400},
            "{{ key }}": [88, "static", "n=6"],
        })
    );
}

#[test]
fn key_order_is_preserved() {
    let rendered = ok(json!({"z": "{{ 1 }}", "a": "{{ 2 }}", "m": "x"}));
    let keys: Vec<_> = rendered.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["z", "a", "m"]);
    let headers = ok(json!("{{ alert.body }}"));
    let keys: Vec<_> = headers.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys[0], "sourceAddress");
    assert_eq!(keys[1], "remote-ip-address");
}

#[test]
fn missing_values_are_errors_that_name_the_expression() {
    let e = err(json!({"json": {"ip": "{{ alert.body.nope }}"}}));
    assert_eq!(e.path, "json.ip");
    assert_eq!(e.expression, "{{ alert.body.nope }}");
    assert!(e.message.contains("alert.body.nope"), "{e}");
    assert!(e.message.contains("undefined"), "{e}");

    let e = err(json!({"headers": {"X-Ip": "ip={{ alert.x }}"}}));
    assert_eq!(e.path, "headers.X-Ip");
    assert!(e.message.contains("alert.x"), "{e}");

    let e = err(json!(["a", "b", "{{ normalize.missing >= 10 }}"]));
    assert_eq!(e.path, "[2]");
    assert!(e.message.contains("normalize.missing"), "{e}");

    let e = err(json!("{{ nosuchaction.field }}"));
    assert!(e.message.contains("nosuchaction"), "{e}");

    let e = err(json!("{{ alert.body.nope.deeper }}"));
    assert!(e.message.contains("alert.body.nope"), "{e}");

    let e = err(json!("{{ [1, alert.body.nope] }}"));
    assert!(e.message.contains("alert.body.nope"), "{e}");
}

#[test]
fn missing_values_fail_in_every_use() {
    for expression in [
        "{{ alert.body.nope ~ 'x' }}",
        "{{ alert.body.nope + 1 }}",
        "{{ alert.body.nope == 'a' }}",
        "{{ 'a' in alert.body.nope }}",
        "{{ alert.body.nope | lower }}",
        "{{ alert.body.nope | int }}",
        "{{ alert.body.nope | length }}",
        "{{ alert.body.nope | sha256 }}",
        "{{ alert.body.nope | dt }}",
        "{% for x in alert.body.nope %}{{ x }}{% endfor %}",
        "{{ alert.x.y == 1 }}",
        "{{ alert.body.nope | to_json }}",
        "{{ alert.body.nope | regex_match('a') }}",
        "{{ alert.body.nope | url_parse }}",
        "{{ alert.body.nope | contains('a') }}",
    ] {
        let e = err(json!(expression));
        assert!(
            e.message.contains("undefined"),
            "{expression}: unexpected message {e}"
        );
    }
}

#[test]
fn or_takes_the_first_present_non_empty_value() {
    assert_eq!(
        ok(json!(
            "{{ alert.body.src_ip or alert.body.sourceAddress or alert.body[\"remote-ip-address\"] }}"
        )),
        json!("203.0.113.7")
    );
    assert_eq!(
        ok(json!(
            "{{ alert.body.src_ip or alert.body[\"remote-ip-address\"] }}"
        )),
        json!("198.51.100.9")
    );
    // Missing intermediate objects and unknown actions are fine on the left of `or`.
    assert_eq!(
        ok(json!(
            "{{ alert.x.y.z or nosuch.a.b or alert.body.empty or alert.body.user.name }}"
        )),
        json!("jdoe")
    );
    assert_eq!(
        ok(json!("{{ alert.body.x.y[0].z or 'fallback' }}")),
        json!("fallback")
    );
    assert_eq!(
        ok(json!("{{ (alert.body.x or alert.body).user.name }}")),
        json!("jdoe")
    );
    // The last operand is used, so it must exist.
    let e = err(json!("{{ alert.body.src_ip or alert.body.also_missing }}"));
    assert!(e.message.contains("alert.body.also_missing"), "{e}");
    let e = err(json!("{{ alert.x.y or alert.z.w }}"));
    assert!(e.message.contains("alert.z"), "{e}");
}

#[test]
fn default_and_defined_work_with_missing_values() {
    assert_eq!(ok(json!("{{ alert.x.y.z | default('d') }}")), json!("d"));
    assert_eq!(ok(json!("{{ alert.body.nope | d(5) }}")), json!(5));
    assert_eq!(ok(json!("{{ nosuch | default([]) }}")), json!([]));
    assert_eq!(
        ok(json!("{{ alert.body.nothing | default('d') }}")),
        Value::Null
    );
    assert_eq!(
        ok(json!("{{ alert.body.empty | default('d', true) }}")),
        json!("d")
    );
    assert_eq!(ok(json!("{{ alert.x.y.z is defined }}")), json!(false));
    assert_eq!(ok(json!("{{ alert.x.y.z is not defined }}")), json!(true));
    assert_eq!(ok(json!("{{ alert.x.y.z is undefined }}")), json!(true));
    assert_eq!(
        ok(json!("{{ alert.body.user.name is defined }}")),
        json!(true)
    );
    assert_eq!(ok(json!("{{ not alert.x.y }}")), json!(true));
    assert_eq!(
        ok(json!("{{ alert.x.y is defined and alert.x.y > 3 }}")),
        json!(false)
    );
    assert_eq!(ok(json!("{{ 'yes' if alert.x.y else 'no' }}")), json!("no"));
    assert_eq!(
        ok(json!(
            "{% if alert.x.y %}a{% elif alert.body.user %}b{% endif %}"
        )),
        json!("b")
    );
    assert_eq!(
        ok(json!(
            "{% for t in reputation.tags if t.x.y is not defined %}{{ t }},{% endfor %}"
        )),
        json!("scanner,tor,")
    );
    assert_eq!(ok(json!("{{ alert.body.zero or 7 }}")), json!(7));
    assert_eq!(ok(json!("{{ alert.body.zero | default(7) }}")), json!(0));
}

#[test]
fn keys_that_are_not_identifiers_are_reachable() {
    assert_eq!(
        ok(json!("{{ alert.body[\"remote-ip-address\"] }}")),
        json!("198.51.100.9")
    );
    assert_eq!(
        ok(json!("{{ alert['headers']['X-Request-Id'] }}")),
        json!("abc")
    );
    assert_eq!(ok(json!("{{ alert.body.user.groups[1] }}")), json!("staff"));
    assert_eq!(ok(json!("{{ alert.body.user.groups.0 }}")), json!("vpn"));
    assert_eq!(
        ok(json!("{{ alert.body.user.groups[-1] }}")),
        json!("staff")
    );
}

#[test]
fn scope_variables_shadow_action_ids_and_chain_lookup_finds_the_nearest_event() {
    let first = ContextNode::new(EventId::new(), "step", Arc::new(json!({"n": 1})), None);
    let second = ContextNode::new(
        EventId::new(),
        "other",
        Arc::new(json!({"n": 2})),
        Some(first),
    );
    let third = ContextNode::new(
        EventId::new(),
        "step",
        Arc::new(json!({"n": 3})),
        Some(second),
    );
    let exprs = Expressions::new();
    let compiled = exprs
        .compile(&json!([
            "{{ step.n }}",
            "{{ other.n }}",
            "{{ task.id }}",
            "{{ item }}"
        ]))
        .unwrap();
    let scope = Scope::new(Some(&third))
        .with(
            "task",
            minijinja::Value::from(minijinja::value::Serde(json!({"id": "t-1"}))),
        )
        .with("item", minijinja::Value::from("a"))
        .with("item", minijinja::Value::from("b"));
    assert_eq!(compiled.render(&scope).unwrap(), json!([3, 2, "t-1", "b"]));

    let shadow = exprs.compile(&json!("{{ step }}")).unwrap();
    let scope = Scope::new(Some(&third)).with("step", minijinja::Value::from(42));
    assert_eq!(shadow.render(&scope).unwrap(), json!(42));

    let empty = exprs
        .compile(&json!("{{ step.n | default('none') }}"))
        .unwrap();
    assert_eq!(empty.render(&Scope::new(None)).unwrap(), json!("none"));
}

#[test]
fn compiled_values_render_on_many_threads() {
    let chain = chain();
    let compiled = Expressions::new()
        .compile(&json!({"ip": "{{ normalize.source_ip }}", "msg": "score {{ reputation.score }}"}))
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let compiled = compiled.clone();
            let chain = chain.clone();
            s.spawn(move || {
                for _ in 0..100 {
                    let out = compiled.render(&Scope::new(Some(&chain))).unwrap();
                    assert_eq!(out, json!({"ip": "203.0.113.7", "msg": "score 87"}));
                }
            });
        }
    });
}

#[test]
fn conditions_evaluate_strictly() {
    let chain = chain();
    let exprs = Expressions::new();
    let scope = Scope::new(Some(&chain));
    let when = exprs
        .compile_expr("{{ normalize.failures >= 10 and reputation.score > 50 }}")
        .unwrap();
    assert!(when.eval_bool(&scope).unwrap());
    let bare = exprs.compile_expr("normalize.failures < 10").unwrap();
    assert!(!bare.eval_bool(&scope).unwrap());
    assert_eq!(
        exprs
            .compile_expr("reputation.tags | length")
            .unwrap()
            .eval(&scope)
            .unwrap(),
        json!(2)
    );
    let missing = exprs.compile_expr("normalize.nope").unwrap();
    let e = missing.eval_bool(&scope).unwrap_err();
    assert!(e.message.contains("normalize.nope"), "{e}");
    let fallback = exprs
        .compile_expr("normalize.nope.x is defined or reputation.score > 80")
        .unwrap();
    assert!(fallback.eval_bool(&scope).unwrap());
    assert!(exprs.compile_expr("a {{ b }}").is_err());
    assert!(exprs.compile_expr("   ").is_err());
}
