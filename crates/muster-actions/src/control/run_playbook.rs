//! `run_playbook`: runs another playbook as a child run and continues with its `exit`
//! output.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome, Wait};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `run_playbook`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RunPlaybookOptions {
    /// The playbook to run.
    playbook: String,
    /// Its inputs, checked against its `inputs:` declaration.
    #[serde(default)]
    inputs: Option<Value>,
    /// The trigger to start at (default: its first `manual` trigger, else its first trigger).
    #[serde(default)]
    trigger: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("run_playbook"),
    summary: Cow::Borrowed("Run another playbook and continue with its exit output."),
    description: Cow::Borrowed(
        "Starts a child run with the given inputs (checked against the child's `inputs:`, \
         defaults filled in) and waits for it without holding a worker. Emits the \
         child's `exit` output (or `{}` when it has none) when the child succeeds; fails \
         (or emits on `error`) when the child fails or is cancelled. Cancelling the \
         parent run cancels the child.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<RunPlaybookOptions>(),
    example: Cow::Borrowed(
        "- id: enrich\n  type: run_playbook\n  options:\n    playbook: enrich_ip\n    inputs:\n      ip: \"{{ normalize.source_ip }}\"\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct RunPlaybook;

#[async_trait]
impl Action for RunPlaybook {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let playbook = match ctx.required("playbook")? {
            Value::String(name) => name,
            other => {
                return Err(ActionError::permanent(format!(
                    "option `playbook` must be a name, got {other}"
                )));
            }
        };
        if let Some(child) = ctx.task.state.as_ref().and_then(|s| s.get("child")) {
            let status = child
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if status == "succeeded" {
                let output = child
                    .get("output")
                    .cloned()
                    .filter(|o| !o.is_null())
                    .unwrap_or(json!({}));
                return Ok(Outcome::emit(output));
            }
            let reason = child
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason recorded");
            let run = child
                .get("run_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(ActionError::permanent(format!(
                "playbook `{playbook}` {status} (run {run}): {reason}"
            ))
            .with_details(child.clone()));
        }
        let inputs = ctx.option("inputs")?.unwrap_or(json!({}));
        let trigger = ctx
            .option("trigger")?
            .and_then(|t| t.as_str().map(str::to_string));
        Ok(Outcome::wait(Wait::Child {
            playbook,
            trigger,
            inputs,
        }))
    }
}
