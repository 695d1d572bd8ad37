//! `explode`: one event per item of a list, for parallel processing and a later `implode`.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Emission, Outcome};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `explode`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExplodeOptions {
    /// The list to split, usually an expression: `"{{ extract.iocs.ipv4 }}"`.
    items: Value,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("explode"),
    summary: Cow::Borrowed("Emit one event per item of a list."),
    description:
        "Each event is `{item, index, total, group}`; the downstream branch runs once per \
                  item, in parallel. `group` identifies this split, and `implode` uses it (with \
                  `total`) to collect the results again. An empty list emits nothing. The run's \
                  event cap (`settings.max_events_per_run`) bounds the number of items."
            .into(),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ExplodeOptions>(),
    example: "- id: each_ip\n  type: explode\n  options:\n    items: \"{{ extract.ipv4 }}\"\n"
        .into(),
    side_effects: false,
    inline: true,
});

pub struct Explode;

#[async_trait]
impl Action for Explode {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let items = match ctx.required("items")? {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => {
                return Err(ActionError::permanent(format!(
                    "option `items` must be a list, got {}",
                    short(&other)
                )));
            }
        };
        let total = items.len();
        let group = ctx.task.id.to_string();
        let emits = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Emission {
                port: "out".into(),
                output: json!({ "item": item, "index": index, "total": total, "group": group }),
            })
            .collect();
        Ok(Outcome {
            emits,
            ..Outcome::default()
        })
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…", &text[..text.floor_char_boundary(80)])
    } else {
        text
    }
}
