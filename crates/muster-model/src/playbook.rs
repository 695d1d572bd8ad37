//! The playbook document: a named graph of actions and the links between their ports.
//!
//! These types are the single source of truth for the playbook format: the YAML loader
//! deserialises into them, the canonical writer serialises them, and the JSON Schema in
//! `docs/playbook.schema.json` is generated from them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::duration::HumanDuration;
use crate::link::Link;

/// A playbook as written by its authors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Unique name: lowercase letters, digits and `_` or `-`, starting with a letter.
    #[schemars(pattern(r"^[a-z][a-z0-9_-]*$"), length(min = 1, max = 100))]
    pub name: String,
    /// What the playbook does, for the people who run it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The team that owns the playbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Declared inputs, which make the playbook callable from `run_playbook`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, InputSpec>,
    /// Limits and retention for this playbook's runs.
    #[serde(default, skip_serializing_if = "Settings::is_default")]
    pub settings: Settings,
    /// The actions, in the order the authors wrote them.
    pub actions: Vec<ActionDef>,
    /// Directed links from an action's port to another action: `a -> b` or `a.port -> b`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Positions of actions in the graph editor, kept apart from the logic.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layout: BTreeMap<String, Position>,
}

/// One node of a playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDef {
    /// Stable snake_case slug, unique in the playbook; expressions refer to outputs by it.
    #[schemars(pattern(r"^[a-z][a-z0-9_]*$"), length(min = 1, max = 64))]
    pub id: String,
    /// The action type: `http_request`, `condition`, `webhook`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// What this step is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The action's options; strings may contain `{{ expressions }}`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub options: Map<String, Value>,
    /// How transient failures are retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// How long one execution may take before it fails as transient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// How many executions of this action may run at the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub concurrency: Option<u32>,
}

/// Retry policy for transient and rate-limited failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (1 means no retry).
    #[schemars(range(min = 1))]
    pub attempts: u32,
    /// Delay before the first retry; doubled (by `factor`) for each further retry.
    #[serde(default = "RetryPolicy::default_backoff")]
    pub backoff: HumanDuration,
    /// The longest delay between two attempts.
    #[serde(default = "RetryPolicy::default_max_backoff")]
    pub max_backoff: HumanDuration,
    /// Multiplier applied to the delay after each retry.
    #[serde(default = "RetryPolicy::default_factor")]
    #[schemars(range(min = 1))]
    pub factor: f64,
    /// Randomise each delay by up to ±50% so that retries of many tasks spread out.
    #[serde(default = "RetryPolicy::default_jitter")]
    pub jitter: bool,
}

impl RetryPolicy {
    fn default_backoff() -> HumanDuration {
        HumanDuration::from_secs(1)
    }
    fn default_max_backoff() -> HumanDuration {
        HumanDuration::from_secs(300)
    }
    fn default_factor() -> f64 {
        2.0
    }
    fn default_jitter() -> bool {
        true
    }
}

impl Default for RetryPolicy {
    /// Three attempts, 1 s then 2 s apart, with jitter.
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Self::default_backoff(),
            max_backoff: Self::default_max_backoff(),
            factor: Self::default_factor(),
            jitter: Self::default_jitter(),
        }
    }
}

/// Per-playbook limits and retention. Every field has a default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// How long finished runs and their events are kept (default: 30d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_events_for: Option<HumanDuration>,
    /// The most events one run may record before it fails (default: 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_events_per_run: Option<u64>,
    /// The most tasks of this playbook that may execute at the same time (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub concurrency: Option<u32>,
    /// Default timeout of one action execution (default: 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_timeout: Option<HumanDuration>,
}

impl Settings {
    pub const DEFAULT_KEEP_EVENTS_FOR_SECS: u64 = 30 * 86_400;
    pub const DEFAULT_MAX_EVENTS_PER_RUN: u64 = 10_000;
    pub const DEFAULT_ACTION_TIMEOUT_SECS: u64 = 60;

    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub fn keep_events_for(&self) -> HumanDuration {
        self.keep_events_for
            .unwrap_or(HumanDuration::from_secs(Self::DEFAULT_KEEP_EVENTS_FOR_SECS))
    }

    pub fn max_events_per_run(&self) -> u64 {
        self.max_events_per_run
            .unwrap_or(Self::DEFAULT_MAX_EVENTS_PER_RUN)
    }

    pub fn action_timeout(&self) -> HumanDuration {
        self.action_timeout
            .unwrap_or(HumanDuration::from_secs(Self::DEFAULT_ACTION_TIMEOUT_SECS))
    }
}

/// One declared input of a callable playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// JSON type of the value.
    #[serde(rename = "type")]
    pub kind: InputType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether callers must provide it (default: true unless a default is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Value used when the caller leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

impl InputSpec {
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(self.default.is_none())
    }
}

/// JSON types an input may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Any,
}

impl InputType {
    /// Whether `value` has this type.
    pub fn accepts(&self, value: &Value) -> bool {
        match self {
            InputType::String => value.is_string(),
            InputType::Number => value.is_number(),
            InputType::Integer => value.is_i64() || value.is_u64(),
            InputType::Boolean => value.is_boolean(),
            InputType::Object => value.is_object(),
            InputType::Array => value.is_array(),
            InputType::Any => true,
        }
    }
}

/// Position of an action in the graph editor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

impl Playbook {
    /// The action with this id.
    pub fn action(&self, id: &str) -> Option<&ActionDef> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// Links that leave `action` on `port`.
    pub fn links_from<'a>(
        &'a self,
        action: &'a str,
        port: &'a str,
    ) -> impl Iterator<Item = &'a Link> + 'a {
        self.links
            .iter()
            .filter(move |l| l.from == action && l.port == port)
    }
}
