//! `delay`: waits for a duration or until a time, durably, then passes the event on.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::DateTime;
use muster_engine::format_millis as rfc3339;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome, Wait};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `delay`: one of `duration` and `until`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DelayOptions {
    /// How long to wait: `30s`, `5m`, `2h`, `7d`.
    #[serde(default)]
    duration: Option<Value>,
    /// When to continue: an RFC 3339 time or epoch seconds.
    #[serde(default)]
    until: Option<Value>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("delay"),
    summary: Cow::Borrowed("Wait for a duration or until a time, then continue."),
    description: "Parks the task in the store: the run shows `waiting` with the time it resumes, \
                  holds no worker or memory, and survives restarts. Emits \
                  `{waited_until, waited_ms}`."
        .into(),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<DelayOptions>(),
    example: Cow::Borrowed("- id: wait_for_sandbox\n  type: delay\n  options:\n    duration: 5m\n"),
    side_effects: false,
    inline: false,
});

pub struct Delay;

fn until_millis(value: &Value) -> Result<i64, ActionError> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .map(|secs| (secs * 1000.0) as i64)
            .ok_or_else(|| ActionError::permanent("option `until` is not a valid number")),
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp_millis())
            .map_err(|e| {
                ActionError::permanent(format!(
                    "option `until`: `{text}` is not an RFC 3339 time: {e}"
                ))
            }),
        other => Err(ActionError::permanent(format!(
            "option `until` must be a time, got {other}"
        ))),
    }
}

#[async_trait]
impl Action for Delay {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        if def.options.contains_key("duration") == def.options.contains_key("until") {
            return vec![OptionProblem {
                path: String::new(),
                message: "a delay needs exactly one of `duration` and `until`".into(),
                hint: Some("for example `duration: 5m`".into()),
            }];
        }
        Vec::new()
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        if let Some(state) = &ctx.task.state
            && let Some(until) = state.get("until").and_then(Value::as_i64)
        {
            if ctx.now >= until {
                let started = state
                    .get("started")
                    .and_then(Value::as_i64)
                    .unwrap_or(until);
                return Ok(Outcome::emit(json!({
                    "waited_until": rfc3339(until),
                    "waited_ms": until - started,
                })));
            }
            return Ok(park(
                until,
                state
                    .get("started")
                    .and_then(Value::as_i64)
                    .unwrap_or(ctx.now),
            ));
        }
        let until = match (ctx.option("duration")?, ctx.option("until")?) {
            (Some(duration), None) => {
                ctx.now + crate::options::duration("duration", &duration)?.as_millis() as i64
            }
            (None, Some(until)) => until_millis(&until)?,
            _ => {
                return Err(ActionError::permanent(
                    "set exactly one of `duration` and `until`",
                ));
            }
        };
        if until <= ctx.now {
            return Ok(Outcome::emit(
                json!({ "waited_until": rfc3339(until), "waited_ms": 0 }),
            ));
        }
        Ok(park(until, ctx.now))
    }
}

fn park(until: i64, started: i64) -> Outcome {
    Outcome::wait(Wait::Until {
        at: until,
        state: json!({ "until": until, "started": started }),
        reason: format!("waiting for delay until {}", rfc3339(until)),
    })
}
