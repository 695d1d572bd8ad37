//! Loading with the real expression language: valid playbooks load, and invalid expressions
//! are reported at the string that holds them.

mod common;

use common::{TestCatalog, fixtures, fixtures_dir, render};
use muster_model::expr::Expressions;
use muster_model::load::load_playbook;

#[test]
fn valid_fixtures_load_with_real_expressions() {
    let expressions = Expressions::new();
    for (name, text) in fixtures("valid") {
        if let Err(d) = load_playbook(&name, &text, &TestCatalog, &expressions) {
            panic!("{name} should load:\n{}", render(&d));
        }
    }
}

#[test]
fn invalid_expressions_are_located_at_their_string() {
    let text = std::fs::read_to_string(fixtures_dir().join("expressions/invalid_expressions.yaml"))
        .expect("fixture");
    let diagnostics = load_playbook(
        "invalid_expressions.yaml",
        &text,
        &TestCatalog,
        &Expressions::new(),
    )
    .expect_err("invalid expressions");
    let places: Vec<(usize, usize)> = diagnostics.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(
        places,
        [(10, 17), (11, 26), (15, 13), (17, 9)],
        "{}",
        render(&diagnostics)
    );
    for d in &diagnostics {
        assert!(d.message.starts_with("invalid expression `"), "{d}");
    }
}
