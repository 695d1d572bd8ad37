//! Sandboxing and bounds: fuel, recursion, output size, no template loading, compile-time
//! checks.

use muster_model::expr::{Expressions, Limits, RenderError, Scope};
use serde_json::{Value, json};

fn render_with(exprs: &Expressions, template: Value) -> Result<Value, RenderError> {
    let compiled = exprs
        .compile(&template)
        .unwrap_or_else(|problems| panic!("{template}: {problems:?}"));
    compiled.render(&Scope::new(None))
}

fn render(template: Value) -> Result<Value, RenderError> {
    render_with(&Expressions::new(), template)
}

#[test]
fn runaway_loops_run_out_of_fuel() {
    let err = render(json!({
        "body": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    }))
    .unwrap_err();
    assert_eq!(err.path, "body");
    assert!(err.message.starts_with("too much work"), "{err}");

    let err = render(json!(
        "{{ range(100000) | map('string') | join(',') * 1000 }}"
    ))
    .unwrap_err();
    assert!(err.message.starts_with("too much work"), "{err}");
}

#[test]
fn fuel_is_configurable() {
    let tight = Expressions::with_limits(Limits {
        fuel: 500,
        ..Limits::default()
    });
    assert_eq!(tight.limits().fuel, 500);
    let loop_of = |n: usize| {
        json!(format!(
            "{{% for i in range({n}) %}}{{{{ i }}}}{{% endfor %}}"
        ))
    };
    assert!(render_with(&tight, loop_of(10)).is_ok());
    let err = render_with(&tight, loop_of(1000)).unwrap_err();
    assert!(err.message.contains("fuel budget of 500"), "{err}");
    assert!(render(loop_of(1000)).is_ok());
}

#[test]
fn recursion_is_bounded() {
    let template = json!("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    // Run on a thread with the default 2 MiB stack, like a worker thread.
    let err = std::thread::spawn(move || render(template))
        .join()
        .expect("no stack overflow")
        .unwrap_err();
    assert!(err.message.contains("recursion limit"), "{err}");

    let shallow = Expressions::with_limits(Limits {
        recursion: 20,
        ..Limits::default()
    });
    let nested = |depth: usize| {
        json!(format!(
            "{{% macro f(n) %}}{{% if n > 0 %}}{{{{ f(n - 1) }}}}{{% endif %}}{{% endmacro %}}{{{{ f({depth}) }}}}"
        ))
    };
    if let Err(err) = render_with(&shallow, nested(1)) {
        panic!("{err}")
    }
    assert!(render_with(&shallow, nested(10)).is_err());
}

#[test]
fn rendered_text_is_capped() {
    let small = Expressions::with_limits(Limits {
        max_output_bytes: 100,
        ..Limits::default()
    });
    assert_eq!(
        render_with(&small, json!("{{ 'x' * 10 }}!")).unwrap(),
        json!("xxxxxxxxxx!")
    );
    let err = render_with(
        &small,
        json!("{% for i in range(50) %}{{ i }},{% endfor %}"),
    )
    .unwrap_err();
    assert!(
        err.message.contains("larger than the limit of 100 bytes"),
        "{err}"
    );
    assert_eq!(Limits::default().max_output_bytes, 1024 * 1024);
}

#[test]
fn templates_cannot_load_other_templates() {
    for text in [
        "{% include 'other' %}",
        "{% import 'macros' as m %}",
        "{% from 'macros' import f %}",
        "{% extends 'base' %}",
    ] {
        let problems = Expressions::new()
            .compile(&json!({"x": text}))
            .err()
            .expect(text);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "x");
        assert!(
            problems[0].message.contains("cannot load other templates"),
            "{problems:?}"
        );
    }
}

#[test]
fn the_context_cannot_be_dumped() {
    let problems = Expressions::new()
        .compile(&json!("{{ debug() }}"))
        .err()
        .unwrap();
    assert!(
        problems[0].message.contains("unknown function `debug()`"),
        "{problems:?}"
    );
    assert!(
        !Expressions::new()
            .function_names()
            .contains(&"debug".to_owned())
    );
}

#[test]
fn compile_reports_every_problem_with_its_path() {
    let problems = Expressions::new()
        .compile(&json!({
            "json": {"ip": "{{ alert.ip | no_such_filter }}"},
            "headers": {"Authorization": "Bearer {{ credentials.x"},
            "list": ["ok", "{{ x }}", "{{ 1 is no_such_test }}"],
            "fine": "{{ alert.ip }}",
            "call": "{{ no_such_function(1) }}",
        }))
        .err()
        .unwrap();
    let summary: Vec<_> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(problems.len(), 4, "{summary:?}");
    assert_eq!(summary[0], ("json.ip", "unknown filter `no_such_filter`"));
    assert_eq!(summary[1].0, "headers.Authorization");
    assert!(summary[1].1.starts_with("syntax error"), "{summary:?}");
    assert_eq!(summary[2], ("list[2]", "unknown test `no_such_test`"));
    assert_eq!(
        summary[3],
        ("call", "unknown function `no_such_function()`")
    );
    assert_eq!(problems[0].expression, "{{ alert.ip | no_such_filter }}");
    assert_eq!(
        problems[0].to_string(),
        "json.ip: unknown filter `no_such_filter` in `{{ alert.ip | no_such_filter }}`"
    );
}

#[test]
fn macros_and_local_names_are_not_unknown_functions() {
    assert_eq!(
        render(json!(
            "{% macro greet(who) %}hi {{ who }}{% endmacro %}{{ greet('ann') }}, {% set f = namespace(n=1) %}{{ f.n }}"
        ))
        .unwrap(),
        json!("hi ann, 1")
    );
}

#[test]
fn deeply_nested_input_is_refused() {
    let mut value = json!("{{ 1 }}");
    for _ in 0..200 {
        value = json!([value]);
    }
    let problems = Expressions::new().compile(&value).err().unwrap();
    assert!(
        problems[0].message.contains("nested more than"),
        "{problems:?}"
    );

    let deep_expression = format!("{{{{ {}1{} }}}}", "(".repeat(500), ")".repeat(500));
    assert!(Expressions::new().compile(&json!(deep_expression)).is_err());
}

#[test]
fn huge_expressions_are_refused_before_they_can_exhaust_the_stack() {
    for text in [
        format!("{{{{ 1{} }}}}", "+1".repeat(100_000)),
        format!("{{{{ a{} or 1 }}}}", ".b".repeat(100_000)),
        format!("x {{% if 1{} %}}y{{% endif %}}", " or 1".repeat(100_000)),
    ] {
        // A worker thread's default 2 MiB stack.
        let problems = std::thread::spawn(move || Expressions::new().compile(&json!(text)))
            .join()
            .expect("no stack overflow")
            .err()
            .expect("refused");
        assert!(
            problems[0].message.contains("more than 500 operators"),
            "{problems:?}"
        );
    }
    let condition = format!("1{}", "+1".repeat(100_000));
    let problem = Expressions::new().compile_expr(&condition).err().unwrap();
    assert!(
        problem.message.contains("more than 500 operators"),
        "{problem}"
    );
    // Just below the limit, compiling and evaluating fit a worker thread's stack.
    let sum = format!("{{{{ 1{} }}}}", "+1".repeat(499));
    let chain = format!("{{{{ a{} or 1 }}}}", ".b".repeat(498));
    let rendered = std::thread::spawn(move || (render(json!(sum)), render(json!(chain))))
        .join()
        .expect("no stack overflow");
    assert_eq!(rendered.0.unwrap(), json!(500));
    assert_eq!(rendered.1.unwrap(), json!(1));
    // Long literal lists are not operators.
    let list = format!(
        "{{{{ [{}] | length }}}}",
        vec!["'10.0.0.0/8'"; 2000].join(", ")
    );
    assert_eq!(render(json!(list)).unwrap(), json!(2000));
}
