//! `manual`: starts a run from the API, the CLI or another playbook; its output is the
//! payload it was given.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use schemars::JsonSchema;
use serde::Deserialize;

/// Options of `manual` (none besides a description of the expected payload).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ManualOptions {
    /// What callers are expected to send.
    #[serde(default)]
    payload_description: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("manual"),
    summary: Cow::Borrowed("Start a run by hand: from the API, the CLI, or another playbook."),
    description: "Emits the payload it was started with. `POST /api/v1/playbooks/{name}/runs` \
                  and `muster run` start runs here; `run_playbook` calls a playbook here first. \
                  For playbooks that declare `inputs:`, the payload is the checked inputs."
        .into(),
    trigger: true,
    ports: &[],
    options: crate::options::schema::<ManualOptions>(),
    example: Cow::Borrowed("- id: start\n  type: manual\n"),
    side_effects: false,
    inline: false,
});

pub struct Manual;

#[async_trait]
impl Action for Manual {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        // A trigger reached by a link re-emits its input.
        Ok(Outcome::emit(ctx.input_output().clone()))
    }
}
