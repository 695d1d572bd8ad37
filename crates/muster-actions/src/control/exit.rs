//! `exit`: sets the run's result, returned to a caller (`run_playbook`, a synchronous webhook).

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Options of `exit`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExitOptions {
    /// The run's result (default: this action's input).
    #[serde(default)]
    output: Option<Value>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("exit"),
    summary: Cow::Borrowed("Set the run's result."),
    description: Cow::Borrowed(
        "Records `output` as the run's result and emits it. A synchronous webhook \
         (`response: exit`) answers with it, and a parent's `run_playbook` continues with \
         it. Other branches of the run go on; when several `exit` actions run, the last \
         one recorded is the result.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ExitOptions>(),
    example: Cow::Borrowed(
        "- id: done\n  type: exit\n  options:\n    output:\n      verdict: \"{{ decide.verdict }}\"\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct Exit;

#[async_trait]
impl Action for Exit {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let output = match ctx.option("output")? {
            Some(output) => output,
            None => ctx.input_output().clone(),
        };
        let mut outcome = Outcome::emit(output.clone());
        outcome.run_output = Some(output);
        Ok(outcome)
    }
}
