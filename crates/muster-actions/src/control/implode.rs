//! `implode`: collects the events of a group (usually an `explode`) into one event.
//!
//! Each arriving item is stored durably with the group; the group's flush task, parked until
//! the timeout, becomes due as soon as the expected number of items is in. The flush emits
//! `{items, count, expected, complete}` once, with the context from before the explode.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use muster_engine::GroupOp;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, GroupEntry, Outcome};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `implode`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ImplodeOptions {
    /// What to collect per event (default: this action's input, the output of the step
    /// before it).
    #[serde(default)]
    item: Option<Value>,
    /// The group key (default: the nearest `explode`'s group).
    #[serde(default)]
    group: Option<Value>,
    /// How many items complete the group (default: the nearest `explode`'s `total`).
    #[serde(default)]
    size: Option<Value>,
    /// How long to wait for the group before emitting what arrived (default: 5m).
    #[serde(default)]
    timeout: Option<Value>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("implode"),
    summary: Cow::Borrowed("Collect the events of a group (from `explode`) into one event."),
    description: Cow::Borrowed(
        "Emits `{items, count, expected, complete}` once per group: as soon as `size` \
         items are in, or when `timeout` passes (then `complete` is false). Items are \
         ordered by their explode index. By default the group, size and items come from \
         the nearest `explode` upstream; the emitted event continues the context from \
         before that explode. Waiting holds no worker and survives restarts.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ImplodeOptions>(),
    example: Cow::Borrowed(
        "- id: all_verdicts\n  type: implode\n  options:\n    item: \"{{ reputation.body.score }}\"\n    timeout: 10m\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct Implode;

#[async_trait]
impl Action for Implode {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        if let Some(state) = &ctx.task.state
            && let Some(key) = state.get("flush").and_then(Value::as_str)
        {
            return flush(ctx, key, state.get("expected").and_then(Value::as_i64)).await;
        }
        let explode = ctx.nearest_of_kind("explode");
        let group = match (ctx.option("group")?, explode) {
            (Some(group), _) => match group {
                Value::String(s) => s,
                other => other.to_string(),
            },
            (None, Some(node)) => node
                .output
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            (None, None) => {
                return Err(ActionError::permanent(
                    "no `explode` upstream: set the `group` (and `size`) options",
                ));
            }
        };
        let expected = match (ctx.option("size")?, explode) {
            (Some(size), _) => Some(size.as_i64().ok_or_else(|| {
                ActionError::permanent(format!("option `size` must be a whole number, got {size}"))
            })?),
            (None, Some(node)) => node.output.get("total").and_then(Value::as_i64),
            (None, None) => None,
        };
        let timeout = match ctx.option("timeout")? {
            Some(value) => crate::options::duration("timeout", &value)?,
            None => DEFAULT_TIMEOUT,
        };
        let item = match ctx.option("item")? {
            Some(item) => item,
            None => ctx.input_output().clone(),
        };
        let index = explode
            .and_then(|node| node.output.get("index").and_then(Value::as_i64))
            // Outside an explode, order items by arrival: event ids are time-ordered.
            .unwrap_or_else(|| (ctx.input_event().0.as_u128() >> 65) as i64);
        let flush_input = match explode.and_then(|node| node.parent.as_ref()) {
            Some(parent) => parent.event,
            None => ctx.trigger_event(),
        };
        let key = format!("{}/{}/{group}", ctx.task.run_id, ctx.action.id());
        let deadline = ctx.now + timeout.as_millis() as i64;
        let flush_state = json!({ "flush": key, "expected": expected });
        let op = ctx.group_add(GroupEntry {
            key,
            index,
            item: &item,
            expected,
            deadline,
            flush_input,
            flush_state,
        });
        Ok(Outcome {
            group_ops: vec![op],
            ..Outcome::default()
        })
    }
}

async fn flush(
    ctx: &ActionContext<'_>,
    key: &str,
    expected: Option<i64>,
) -> Result<Outcome, ActionError> {
    let items = ctx
        .store
        .group_items(key)
        .await
        .map_err(|e| ActionError::transient(format!("reading the group: {e}")))?;
    let count = items.len() as i64;
    let complete = expected.is_some_and(|n| count >= n);
    let output =
        json!({ "items": items, "count": count, "expected": expected, "complete": complete });
    let mut outcome = Outcome::emit(output);
    outcome.group_ops.push(GroupOp::Take {
        key: key.to_string(),
        items_seen: count,
    });
    Ok(outcome)
}
