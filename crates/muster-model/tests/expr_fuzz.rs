//! Property tests: whatever text is given as a template or an expression, compiling and
//! rendering return a result or an error and never panic; and the fallback rewrite never
//! turns text minijinja accepts into a syntax error.

use std::sync::Arc;

use muster_model::expr::{Expressions, Scope};
use muster_model::{ContextNode, EventId};
use proptest::prelude::*;
use serde_json::json;

fn chain() -> Arc<ContextNode> {
    ContextNode::new(
        EventId::new(),
        "a",
        Arc::new(json!({"b": {"c": 1, "d": "x"}, "l": [1, 2, {"e": null}], "s": "text"})),
        None,
    )
}

/// Pieces of Jinja syntax, so that generated text often parses. Filters backed by other
/// crates are left out on purpose: their own tests cover them.
const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{-",
    "-}}",
    " ",
    "a",
    "b",
    "c",
    "l",
    "s",
    "x",
    ".",
    ".0",
    "[",
    "]",
    "(",
    ")",
    "'k'",
    "\"d\"",
    "0",
    "1",
    "-1",
    "2.5",
    "or",
    "and",
    "not",
    "is",
    "in",
    "defined",
    "undefined",
    "none",
    "|",
    "default",
    "d",
    "upper",
    "length",
    "int",
    "sha256",
    "to_json",
    "first",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "endfor",
    "set",
    "=",
    ",",
    "~",
    "+",
    "*",
    "==",
    ">=",
    "<",
    ":",
    "{",
    "}",
    "true",
    "loop.index",
    "range(3)",
    "now()",
    "dt",
    "strftime('%Y')",
    "regex_match('a')",
    "b64encode",
    "keys",
];

fn jinja_like() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|parts| parts.join(" "))
}

fn glued() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|parts| parts.concat())
}

fn exercise(text: &str) {
    let exprs = Expressions::new();
    let chain = chain();
    let scope = Scope::new(Some(&chain)).with("item", minijinja::Value::from(3));
    if let Ok(compiled) = exprs.compile(&json!({"k": text, "l": [text]})) {
        let _ = compiled.render(&scope);
    }
    if let Ok(expr) = exprs.compile_expr(text) {
        let _ = expr.eval(&scope);
        let _ = expr.eval_bool(&scope);
    }
}

/// Our analysis may reject unknown names, but never text that minijinja itself parses.
fn rewrite_keeps_valid_text_valid(text: &str) {
    if minijinja::Environment::new()
        .template_from_str(text)
        .is_err()
    {
        return;
    }
    if let Err(problems) = Expressions::new().compile(&json!(text)) {
        for problem in problems {
            assert!(
                !problem.message.contains("syntax error")
                    && !problem.message.contains("could not be analysed"),
                "{text:?}: {problem}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        exercise(&text);
    }

    #[test]
    fn jinja_like_text_never_panics(text in jinja_like()) {
        exercise(&text);
        rewrite_keeps_valid_text_valid(&text);
    }

    #[test]
    fn glued_jinja_like_text_never_panics(text in glued()) {
        exercise(&text);
        rewrite_keeps_valid_text_valid(&text);
    }

    #[test]
    fn fallback_chains_are_valid(
        path in prop::collection::vec(prop::sample::select(&[".b", ".c", "['d']", "[0]", ".0", ".zz", "[\"k-1\"]"][..]), 1..6),
        parens in any::<bool>(),
        position in prop::sample::select(&["{{ X or 'f' }}", "{{ X | default(1) }}", "{{ X is defined }}", "{% if not X %}n{% endif %}", "{{ 1 if X else 2 }}"][..]),
    ) {
        let mut chain_text = "a".to_owned();
        for (i, step) in path.iter().enumerate() {
            chain_text.push_str(step);
            if parens && i == 0 {
                chain_text = format!("({chain_text})");
            }
        }
        let text = position.replace('X', &chain_text);
        let compiled = Expressions::new().compile(&json!(text));
        prop_assert!(compiled.is_ok(), "{}: {:?}", text, compiled.err());
        let chain = chain();
        let rendered = compiled.unwrap().render(&Scope::new(Some(&chain)));
        prop_assert!(rendered.is_ok(), "{}: {:?}", text, rendered.err());
    }
}
