//! `condition`: sends its input on `true` or `false`, by an expression or a list of rules.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `condition`: exactly one of `when` and `rules`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConditionOptions {
    /// An expression that decides: `"{{ score >= 70 }}"`.
    #[allow(dead_code)]
    #[serde(default)]
    when: Option<Value>,
    /// Rules compared without writing expressions.
    #[serde(default)]
    rules: Option<Vec<Rule>>,
    /// `all` (default) or `any` of the rules.
    #[serde(default)]
    r#match: Option<Match>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// The value tested, usually an expression.
    value: Value,
    /// The comparison.
    op: Op,
    /// What it is compared with (not used by `is_empty`/`is_not_empty`).
    #[serde(default)]
    expected: Value,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Op {
    Equals,
    NotEquals,
    Contains,
    NotContains,
    Regex,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Match {
    #[default]
    All,
    Any,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("condition"),
    summary: Cow::Borrowed("Branch: emit on `true` or `false`."),
    description: Cow::Borrowed(
        "Decides by `when` (an expression whose truthiness counts; a missing value is an \
         error, not `false`) or by `rules` (`equals`, `not_equals`, `contains`, \
         `not_contains`, `regex`, `greater_than`, `greater_or_equal`, `less_than`, \
         `less_or_equal`, `is_empty`, `is_not_empty`) combined with `match: all|any`. \
         Emits `{\"result\": true|false}` on the port of the same name.",
    ),
    trigger: false,
    ports: &["true", "false"],
    options: crate::options::schema::<ConditionOptions>(),
    example: Cow::Borrowed(
        "- id: enough_failures\n  type: condition\n  options:\n    when: \"{{ normalize.failures >= 10 and not normalize.source_ip | is_private_ip }}\"\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct Condition;

#[async_trait]
impl Action for Condition {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn ports(&self, _: &ActionDef) -> Vec<String> {
        vec!["out".into(), "true".into(), "false".into()]
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let has_when = def.options.contains_key("when");
        let has_rules = def.options.contains_key("rules");
        if has_when == has_rules {
            return vec![OptionProblem {
                path: String::new(),
                message: "a condition needs exactly one of `when` and `rules`".into(),
                hint: Some("for example `when: \"{{ score > 70 }}\"`".into()),
            }];
        }
        Vec::new()
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let result = if let Some(value) = ctx.option("when")? {
            truthy(&value)
        } else {
            let options: ConditionOptions =
                crate::options::parse(Value::Object(ctx.options_except(&[])?))?;
            let rules = options.rules.unwrap_or_default();
            let mut outcomes = rules.iter().enumerate().map(|(i, rule)| evaluate(i, rule));
            match options.r#match.unwrap_or_default() {
                Match::All => outcomes.try_fold(true, |acc, r| r.map(|v| acc && v))?,
                Match::Any => outcomes.try_fold(false, |acc, r| r.map(|v| acc || v))?,
            }
        };
        let port = if result { "true" } else { "false" };
        Ok(Outcome::emit_on(port, json!({ "result": result })))
    }
}

/// Jinja truthiness of a JSON value.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn evaluate(index: usize, rule: &Rule) -> Result<bool, ActionError> {
    let compare = |f: fn(f64, f64) -> bool| -> Result<bool, ActionError> {
        match (number(&rule.value), number(&rule.expected)) {
            (Some(a), Some(b)) => Ok(f(a, b)),
            _ => Err(ActionError::permanent(format!(
                "rule {index}: `{:?}` compares numbers, got {} and {}",
                rule.op, rule.value, rule.expected
            ))),
        }
    };
    Ok(match rule.op {
        Op::Equals => loosely_equal(&rule.value, &rule.expected),
        Op::NotEquals => !loosely_equal(&rule.value, &rule.expected),
        Op::Contains => contains(&rule.value, &rule.expected),
        Op::NotContains => !contains(&rule.value, &rule.expected),
        Op::Regex => {
            let pattern = text(&rule.expected);
            let regex = Regex::new(&pattern)
                .map_err(|e| ActionError::permanent(format!("rule {index}: invalid regex: {e}")))?;
            regex.is_match(&text(&rule.value))
        }
        Op::GreaterThan => compare(|a, b| a > b)?,
        Op::GreaterOrEqual => compare(|a, b| a >= b)?,
        Op::LessThan => compare(|a, b| a < b)?,
        Op::LessOrEqual => compare(|a, b| a <= b)?,
        Op::IsEmpty => !truthy(&rule.value),
        Op::IsNotEmpty => truthy(&rule.value),
    })
}

/// Equality that treats `"10"` and `10` as equal, since values often arrive as strings.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (number(a), number(b)) {
        (Some(x), Some(y)) if a.is_number() || b.is_number() => x == y,
        _ => false,
    }
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|i| loosely_equal(i, needle)),
        Value::Object(map) => map.contains_key(&text(needle)),
        other => text(other).contains(&text(needle)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: Value, op: Op, expected: Value) -> Rule {
        Rule {
            value,
            op,
            expected,
        }
    }

    #[test]
    fn rules_compare_loosely_typed_values() {
        assert!(evaluate(0, &rule(json!("10"), Op::Equals, json!(10))).unwrap());
        assert!(evaluate(0, &rule(json!("12"), Op::GreaterThan, json!(10))).unwrap());
        assert!(evaluate(0, &rule(json!(["a", "b"]), Op::Contains, json!("b"))).unwrap());
        assert!(
            evaluate(
                0,
                &rule(json!("evil.example"), Op::Regex, json!(r"\.example$"))
            )
            .unwrap()
        );
        assert!(evaluate(0, &rule(json!([]), Op::IsEmpty, Value::Null)).unwrap());
        assert!(!evaluate(0, &rule(json!("x"), Op::Equals, json!("y"))).unwrap());
        let err = evaluate(3, &rule(json!("abc"), Op::LessThan, json!(1))).unwrap_err();
        assert!(err.message.starts_with("rule 3:"), "{}", err.message);
    }
}
