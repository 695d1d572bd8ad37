//! `set`: builds a value from expressions; with `loop`, builds one per item of a list.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome, to_value};
use serde_json::{Map, Value, json};

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("set"),
    summary: Cow::Borrowed("Build a value from expressions (and, with `loop`, one per list item)."),
    description: Cow::Borrowed(
        "Every option is a field of the output: `{source_ip: \"{{ alert.body.src_ip }}\"}` \
         emits `{\"source_ip\": \"203.0.113.7\"}`. With `loop: \"{{ list }}\"` the other \
         options are rendered once per item, with `item` and `index` in scope, and the \
         output is the list of results.",
    ),
    trigger: false,
    ports: &[],
    options: json!({
        "type": "object",
        "description": "Fields of the output; `loop` is reserved.",
        "properties": { "loop": { "description": "A list to build one value per item of." } },
        "additionalProperties": true
    }),
    example: Cow::Borrowed(
        "- id: normalize\n  type: set\n  options:\n    source_ip: \"{{ alert.body.src_ip or alert.body.sourceAddress }}\"\n    failures: \"{{ alert.body.count | int }}\"\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct Set;

/// The most items `loop` may iterate.
const MAX_LOOP_ITEMS: usize = 10_000;

#[async_trait]
impl Action for Set {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let Some(list) = ctx.option("loop")? else {
            return Ok(Outcome::emit(Value::Object(ctx.options_except(&[])?)));
        };
        let Value::Array(items) = list else {
            return Err(ActionError::permanent(format!(
                "option `loop` must be a list, got {list}"
            )));
        };
        if items.len() > MAX_LOOP_ITEMS {
            return Err(ActionError::permanent(format!(
                "option `loop` has {} items, more than the limit of {MAX_LOOP_ITEMS}",
                items.len()
            )));
        }
        let mut results = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let scope = ctx
                .scope()
                .with("item", to_value(item))
                .with("index", minijinja::Value::from(index));
            let mut out = Map::new();
            for (name, _) in &ctx.action.options {
                if name == "loop" {
                    continue;
                }
                if let Some(value) = ctx.option_in(name, &scope)? {
                    out.insert(name.clone(), value);
                }
            }
            results.push(Value::Object(out));
        }
        Ok(Outcome::emit(Value::Array(results)))
    }
}
