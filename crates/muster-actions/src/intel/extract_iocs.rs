//! `extract_iocs`: pulls indicators (IPs, domains, URLs, hashes, CVEs, …) out of text.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_intel::ioc::{ExtractOptions, extract_detailed};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Options of `extract_iocs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExtractIocsOptions {
    /// The text to search (default: this action's input, as JSON text).
    #[serde(default)]
    text: Option<Value>,
    /// Types to report: ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512, cve,
    /// attack_technique, asn, bitcoin, file_name, registry_key, mac (default: all).
    #[serde(default)]
    types: Option<Vec<String>>,
    /// Report each value once (default: true).
    #[serde(default)]
    dedupe: Option<bool>,
    /// Also report the hosts of URLs and emails as domains or IPs (default: true).
    #[serde(default)]
    include_hosts: Option<bool>,
    /// Known-good domains (with subdomains), addresses and CIDR blocks to drop.
    #[serde(default)]
    allow: Option<Vec<String>>,
    /// Understand defanged indicators such as `hxxp://evil[.]com` (default: true).
    #[serde(default)]
    refang: Option<bool>,
    /// Also list each indicator with its raw text, offsets and tags (default: false).
    #[serde(default)]
    detailed: Option<bool>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("extract_iocs"),
    summary: Cow::Borrowed("Extract indicators (IPs, domains, URLs, hashes, CVEs, …) from text."),
    description: Cow::Borrowed(
        "Emits `{iocs: {type: [values…]}, count, truncated}` with values refanged and in \
         order of appearance (`detailed: true` adds `items` with the raw text, byte \
         offsets and tags such as `private` or `documentation` for each). Defanged \
         input is understood; domains are checked against the Public Suffix List. See \
         docs/intel.md for the rules.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ExtractIocsOptions>(),
    example: Cow::Borrowed(
        "- id: indicators\n  type: extract_iocs\n  options:\n    text: \"{{ report.body }}\"\n    types: [ipv4, domain, url, sha256]\n    allow: [example.com, 10.0.0.0/8]\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct ExtractIocs;

#[async_trait]
impl Action for ExtractIocs {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let text = match ctx.option("text")? {
            Some(value) => super::as_text(&value),
            None => super::as_text(ctx.input_output()),
        };
        let detailed = ctx
            .option("detailed")?
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let mut settings = serde_json::Map::new();
        for name in ["types", "dedupe", "include_hosts", "allow", "refang"] {
            if let Some(value) = ctx.option(name)? {
                settings.insert(name.to_string(), value);
            }
        }
        let options: ExtractOptions = serde_json::from_value(Value::Object(settings))
            .map_err(|e| ActionError::permanent(format!("invalid options: {e}")))?;
        let extraction = extract_detailed(&text, &options);
        let mut grouped = serde_json::Map::new();
        for ioc in &extraction.iocs {
            let list = grouped
                .entry(ioc.kind.as_str().to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = list {
                values.push(Value::String(ioc.value.clone()));
            }
        }
        let mut output = json!({
            "iocs": grouped,
            "count": extraction.iocs.len(),
            "truncated": extraction.truncated,
        });
        if detailed {
            output["items"] = serde_json::to_value(&extraction.iocs)
                .map_err(|e| ActionError::permanent(e.to_string()))?;
        }
        Ok(Outcome::emit(output))
    }
}
