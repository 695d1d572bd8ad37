//! `throttle`: spaces events with the same key at least `interval` apart; events over the
//! rate wait durably for their slot instead of being dropped.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::format_millis as rfc3339;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome, Wait};
use muster_engine::{StateExpect, StateWrite};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `throttle`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ThrottleOptions {
    /// Events with the same key share the rate (default: one key for all events).
    #[serde(default)]
    key: Option<Value>,
    /// The rate as `N/period`: `10/1m` lets ten events per minute through, evenly spaced.
    rate: Value,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("throttle"),
    summary: Cow::Borrowed(
        "Let events through at most at a rate per key; the rest wait their turn.",
    ),
    description: Cow::Borrowed(
        "Each key gets slots `period / N` apart. An event whose slot is now passes at \
         once; a later one parks until its slot (the run shows `waiting`). Emits \
         `{key, slot}`. Slots are stored durably, so the rate holds across runs, \
         workers and restarts.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ThrottleOptions>(),
    example: Cow::Borrowed(
        "- id: pace_tickets\n  type: throttle\n  options:\n    key: \"{{ normalize.user }}\"\n    rate: 5/1m\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct Throttle;

/// Parses `N/period` into the spacing between two events, in milliseconds.
fn spacing(rate: &Value) -> Result<i64, ActionError> {
    let text = rate.as_str().unwrap_or_default();
    let parsed = text.split_once('/').and_then(|(n, period)| {
        let n: u64 = n.trim().parse().ok().filter(|n| *n > 0)?;
        let period: muster_model::HumanDuration = period.trim().parse().ok()?;
        Some((period.as_millis() / n).max(1) as i64)
    });
    parsed.ok_or_else(|| {
        ActionError::permanent(format!("option `rate` must look like `10/1m`, got {rate}"))
    })
}

#[async_trait]
impl Action for Throttle {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        if let Some(state) = &ctx.task.state
            && let Some(slot) = state.get("slot").and_then(Value::as_i64)
        {
            let key = state.get("key").cloned().unwrap_or(Value::Null);
            return Ok(Outcome::emit(json!({ "key": key, "slot": rfc3339(slot) })));
        }
        let spacing = spacing(&ctx.required("rate")?)?;
        let key = match ctx.option("key")? {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => "default".into(),
        };
        let scope = ctx.state_scope();
        let entry = ctx.state(&scope, &key).await?;
        let next_free = entry
            .as_ref()
            .and_then(|e| e.value.get("next").and_then(Value::as_i64))
            .unwrap_or(ctx.now);
        let slot = next_free.max(ctx.now);
        let write = StateWrite {
            scope,
            key: key.clone(),
            expect: match &entry {
                Some(e) => StateExpect::Version(e.version),
                None => StateExpect::Absent,
            },
            value: Some(json!({ "next": slot + spacing }).to_string()),
            expires_at: Some(slot + spacing),
        };
        let mut outcome = if slot <= ctx.now {
            Outcome::emit(json!({ "key": key, "slot": rfc3339(slot) }))
        } else {
            Outcome::wait(Wait::Until {
                at: slot,
                state: json!({ "slot": slot, "key": key }),
                reason: format!(
                    "throttled: waiting for a slot at {} (key {key})",
                    rfc3339(slot)
                ),
            })
        };
        outcome.state_writes.push(write);
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_spacings() {
        assert_eq!(spacing(&json!("10/1m")).unwrap(), 6_000);
        assert_eq!(spacing(&json!("1/1s")).unwrap(), 1_000);
        assert!(spacing(&json!("0/1m")).is_err());
        assert!(spacing(&json!("ten per minute")).is_err());
    }
}
