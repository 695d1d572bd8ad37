//! `deduplicate`: lets the first event with a key through and holds back repeats within a
//! window, durably and across runs.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_engine::{StateExpect, StateWrite};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `deduplicate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DeduplicateOptions {
    /// What makes two events the same: `"{{ normalize.source_ip }}"`.
    key: Value,
    /// How long a key is remembered (default: 1h).
    #[serde(default)]
    window: Option<Value>,
    /// `playbook` (default): across all runs of the playbook; `run`: within one run.
    #[serde(default)]
    scope: Option<String>,
}

const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("deduplicate"),
    summary: Cow::Borrowed("Pass the first event per key; hold back repeats within a window."),
    description: Cow::Borrowed(
        "Emits `{key, duplicate: false}` on `out` the first time a key is seen within \
         `window`, and `{key, duplicate: true}` on `duplicate` afterwards (dropped unless \
         linked). Keys are stored durably, so de-duplication holds across runs and \
         restarts; with several workers exactly one event per key passes.",
    ),
    trigger: false,
    ports: &["duplicate"],
    options: crate::options::schema::<DeduplicateOptions>(),
    example: Cow::Borrowed(
        "- id: once_per_ip\n  type: deduplicate\n  options:\n    key: \"{{ normalize.source_ip }}\"\n    window: 24h\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct Deduplicate;

#[async_trait]
impl Action for Deduplicate {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let key = match ctx.required("key")? {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let window = match ctx.option("window")? {
            Some(value) => crate::options::duration("window", &value)?,
            None => DEFAULT_WINDOW,
        };
        let scope = match ctx.option("scope")?.as_ref().and_then(Value::as_str) {
            None | Some("playbook") => ctx.state_scope(),
            Some("run") => format!("{}/{}", ctx.state_scope(), ctx.task.run_id),
            Some(other) => {
                return Err(ActionError::permanent(format!(
                    "option `scope` must be `playbook` or `run`, not `{other}`"
                )));
            }
        };
        if ctx.state(&scope, &key).await?.is_some() {
            return Ok(Outcome::emit_on(
                "duplicate",
                json!({ "key": key, "duplicate": true }),
            ));
        }
        let mut outcome = Outcome::emit(json!({ "key": key, "duplicate": false }));
        outcome.state_writes.push(StateWrite {
            scope,
            key,
            expect: StateExpect::Absent,
            value: Some(json!({ "first_seen": ctx.now, "run": ctx.task.run_id }).to_string()),
            expires_at: Some(ctx.now + window.as_millis() as i64),
        });
        Ok(outcome)
    }
}
