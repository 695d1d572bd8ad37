//! `normalize`: brings an alert from one tool into one shape (OCSF-aligned), with a built-in
//! profile or a mapping written in the playbook.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_intel::normalize::{Mapping, Normalized, ocsf, profile, profiles};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `normalize`: one of `profile` and `mapping`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct NormalizeOptions {
    /// A built-in profile: suricata_eve_alert, zeek_notice, wazuh_alert, okta_system_log, …
    /// (`muster intel normalize --list` prints them).
    #[serde(default)]
    profile: Option<String>,
    /// A mapping written inline (the format of docs/intel.md).
    #[serde(default)]
    mapping: Option<Value>,
    /// The alert: a JSON value, or a raw CEF/LEEF line or JSON text (default: this action's
    /// input).
    #[serde(default)]
    input: Option<Value>,
    /// Check the result against its OCSF class and list what it lacks (default: true).
    #[serde(default)]
    validate: Option<bool>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("normalize"),
    summary: Cow::Borrowed(
        "Normalise an alert into one OCSF-aligned shape, by profile or mapping.",
    ),
    description: Cow::Borrowed(
        "Emits `{event, warnings, findings}`: the normalised event, what the mapping \
         skipped, and (unless `validate: false`) what the OCSF validator found missing \
         or wrong. Text input is parsed in the profile's source format (JSON, CEF or \
         LEEF). Built-in profiles cover Suricata, Zeek, Wazuh, CrowdStrike, Defender \
         for Endpoint, GuardDuty, Okta, Windows Security and Sysmon events, CEF and \
         LEEF.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<NormalizeOptions>(),
    example: Cow::Borrowed(
        "- id: normalized\n  type: normalize\n  options:\n    profile: suricata_eve_alert\n    input: \"{{ alert.body }}\"\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct Normalize;

enum Source {
    Profile(&'static muster_intel::normalize::Profile),
    Mapping(Box<Mapping>),
}

impl AsRef<Mapping> for Source {
    fn as_ref(&self) -> &Mapping {
        match self {
            Source::Profile(profile) => profile.mapping(),
            Source::Mapping(mapping) => mapping,
        }
    }
}

fn unknown_profile(name: &str) -> String {
    let known: Vec<&str> = profiles().map(|p| p.name()).collect();
    format!("unknown profile `{name}` (known: {})", known.join(", "))
}

#[async_trait]
impl Action for Normalize {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        if def.options.contains_key("profile") == def.options.contains_key("mapping") {
            problems.push(OptionProblem {
                path: String::new(),
                message: "normalize needs exactly one of `profile` and `mapping`".into(),
                hint: Some("for example `profile: suricata_eve_alert`".into()),
            });
        }
        if let Some(Value::String(name)) = def.options.get("profile")
            && !name.contains("{{")
            && profile(name).is_none()
        {
            problems.push(OptionProblem {
                path: "profile".into(),
                message: unknown_profile(name),
                hint: None,
            });
        }
        if let Some(mapping) = def.options.get("mapping")
            && !mapping.to_string().contains("{{")
            && let Err(e) = serde_json::from_value::<Mapping>(mapping.clone())
        {
            problems.push(OptionProblem {
                path: "mapping".into(),
                message: format!("invalid mapping: {e}"),
                hint: None,
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let source = match (ctx.option("profile")?, ctx.option("mapping")?) {
            (Some(Value::String(name)), None) => Source::Profile(
                profile(&name).ok_or_else(|| ActionError::permanent(unknown_profile(&name)))?,
            ),
            (None, Some(mapping)) => Source::Mapping(Box::new(
                serde_json::from_value(mapping)
                    .map_err(|e| ActionError::permanent(format!("invalid mapping: {e}")))?,
            )),
            _ => {
                return Err(ActionError::permanent(
                    "set exactly one of `profile` (a name) and `mapping`",
                ));
            }
        };
        let input = match ctx.option("input")? {
            Some(value) => value,
            None => ctx.input_output().clone(),
        };
        let normalized: Normalized = match &input {
            Value::String(text) => muster_intel::normalize::normalize_text(text, &source),
            value => muster_intel::normalize::normalize(value, &source),
        }
        .map_err(|e| ActionError::permanent(e.to_string()))?;
        let validate = ctx
            .option("validate")?
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let findings: Vec<String> = match source.as_ref().ocsf_class() {
            Some(class) if validate => ocsf::validate(class, &normalized.event)
                .iter()
                .map(ToString::to_string)
                .collect(),
            _ => Vec::new(),
        };
        let warnings: Vec<String> = normalized
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok(Outcome::emit(json!({
            "event": normalized.event,
            "warnings": warnings,
            "findings": findings,
        })))
    }
}
