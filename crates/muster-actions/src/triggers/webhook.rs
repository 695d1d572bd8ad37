//! `webhook`: starts a run for each request to `/hooks/{path}`.
//!
//! The HTTP side (secret and signature checks, body limits, synchronous responses) lives in
//! the server; this file defines the options and the trigger event's shape.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `webhook`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookOptions {
    /// The path below `/hooks/`: letters, digits, `-`, `_`, `.` and `/`.
    pub path: String,
    /// A shared secret the sender must present, in the `X-Muster-Secret` header or as a bearer
    /// token. Compared in constant time.
    #[serde(default)]
    pub secret: Option<String>,
    /// Verify an HMAC-SHA256 signature of the body instead of (or as well as) a secret.
    #[serde(default)]
    pub signature: Option<SignatureOptions>,
    /// Accepted methods (default: POST).
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// Largest accepted body in bytes (default: 1048576).
    #[serde(default = "default_max_body")]
    pub max_body: usize,
    /// `accepted` answers 202 with the run id at once; `exit` waits for the run's `exit`
    /// output (or its end) and answers with it.
    #[serde(default)]
    pub response: ResponseMode,
    /// How long an `exit` response may wait before answering 202 (default: 30s).
    #[serde(default)]
    pub response_timeout: Option<String>,
}

/// HMAC signature check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureOptions {
    /// The header carrying the signature (e.g. `X-Hub-Signature-256`).
    pub header: String,
    /// The HMAC key.
    pub secret: String,
    /// Text before the hex digest in the header (e.g. `sha256=`).
    #[serde(default)]
    pub prefix: String,
}

/// When a webhook request is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    Accepted,
    Exit,
}

fn default_methods() -> Vec<String> {
    vec!["POST".into()]
}

fn default_max_body() -> usize {
    1024 * 1024
}

impl WebhookOptions {
    /// Reads the options of a configured webhook action.
    pub fn of(def: &ActionDef) -> Result<Self, String> {
        serde_json::from_value(Value::Object(def.options.clone())).map_err(|e| e.to_string())
    }
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("webhook"),
    summary: Cow::Borrowed("Start a run for each HTTP request to /hooks/{path}."),
    description: Cow::Borrowed(
        "Emits `{method, path, headers, query, body}`. The body is parsed as JSON when \
         the content type says so, kept as text otherwise. A raw email posted as \
         `message/rfc822` (a \"report phishing\" button) also gets `email`, the \
         document `parse_email` emits, and `body_encoding`: `text`, or `base64` when \
         the message is not UTF-8 (then `body` is its base64). Requests must present `secret` (header \
         `X-Muster-Secret` or `Authorization: Bearer`) and/or a valid HMAC-SHA256 \
         `signature`. With `response: exit` the request waits for the run's `exit` \
         output and returns it.",
    ),
    trigger: true,
    ports: &[],
    options: crate::options::schema::<WebhookOptions>(),
    example: Cow::Borrowed(
        "- id: alert\n  type: webhook\n  options:\n    path: vpn-bruteforce\n    secret: s3cret\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct Webhook;

fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && !path.starts_with('/')
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

#[async_trait]
impl Action for Webhook {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        if let Some(Value::String(path)) = def.options.get("path")
            && !valid_path(path)
        {
            problems.push(OptionProblem {
                path: "path".into(),
                message: format!("`{path}` is not a valid webhook path"),
                hint: Some(
                    "use letters, digits, `-`, `_`, `.` and `/`, without a leading `/`".into(),
                ),
            });
        }
        if let Some(Value::Array(methods)) = def.options.get("methods") {
            for method in methods {
                let ok = method
                    .as_str()
                    .is_some_and(|m| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m));
                if !ok {
                    problems.push(OptionProblem {
                        path: "methods".into(),
                        message: format!("{method} is not a supported method"),
                        hint: Some("use GET, POST, PUT, PATCH or DELETE".into()),
                    });
                }
            }
        }
        if let Some(Value::String(timeout)) = def.options.get("response_timeout")
            && let Err(e) = timeout.parse::<muster_model::HumanDuration>()
        {
            problems.push(OptionProblem {
                path: "response_timeout".into(),
                message: e.to_string(),
                hint: None,
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        Ok(Outcome::emit(ctx.input_output().clone()))
    }

    fn trigger_output(&self, def: &ActionDef, payload: Value) -> Value {
        let path = def
            .options
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        json!({
            "method": "POST",
            "path": path,
            "headers": {"content-type": "application/json"},
            "query": {},
            "body": payload,
        })
    }

    fn webhook_path(&self, def: &ActionDef) -> Option<String> {
        def.options
            .get("path")
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}
