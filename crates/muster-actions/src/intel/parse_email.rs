//! `parse_email`: takes a raw email (a reported phish) apart for triage.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use base64::Engine as _;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Options of `parse_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ParseEmailOptions {
    /// The raw RFC 5322/MIME message, as text or base64.
    raw: Value,
    /// `auto` (default: base64 when the text is valid base64 and decodes to a message),
    /// `text` or `base64`.
    #[serde(default)]
    encoding: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("parse_email"),
    summary: Cow::Borrowed(
        "Parse a raw email into headers, senders, hops, authentication, links, attachments and indicators.",
    ),
    description: Cow::Borrowed(
        "Emits the email report of docs/intel.md: `from`, `sender`, `reply_to`, \
         `return_path`, `to`, `cc`, `subject`, `date`, `message_id`, all headers, the \
         `Received` hops and originating IP, SPF/DKIM/DMARC verdicts, text and HTML \
         bodies, `links` (with mismatched display text flagged), `urls`, `attachments` \
         (with hashes, sniffed types, nested messages), phishing `flags`, `iocs` and \
         `warnings`. Malformed messages give a best-effort report with warnings.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<ParseEmailOptions>(),
    example: Cow::Borrowed(
        "- id: email\n  type: parse_email\n  options:\n    raw: \"{{ report.body }}\"\n",
    ),
    side_effects: false,
    inline: true,
});

pub struct ParseEmail;

fn decode(raw: &str, encoding: &str) -> Result<Vec<u8>, ActionError> {
    let base64 = || {
        let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(compact)
    };
    match encoding {
        "text" => Ok(raw.as_bytes().to_vec()),
        "base64" => base64()
            .map_err(|e| ActionError::permanent(format!("option `raw` is not valid base64: {e}"))),
        "auto" => Ok(match base64() {
            // A message has a header line with a colon; random base64 hardly decodes to one.
            Ok(bytes) if bytes.iter().take(1000).any(|b| *b == b':') && !raw.contains(':') => bytes,
            _ => raw.as_bytes().to_vec(),
        }),
        other => Err(ActionError::permanent(format!(
            "option `encoding` must be auto, text or base64, not `{other}`"
        ))),
    }
}

#[async_trait]
impl Action for ParseEmail {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let raw = match ctx.required("raw")? {
            Value::String(text) => text,
            other => {
                return Err(ActionError::permanent(format!(
                    "option `raw` must be text, got {other}"
                )));
            }
        };
        let encoding = ctx.option("encoding")?;
        let bytes = decode(
            &raw,
            encoding.as_ref().and_then(Value::as_str).unwrap_or("auto"),
        )?;
        let report = muster_intel::email::parse(&bytes);
        let output =
            serde_json::to_value(&report).map_err(|e| ActionError::permanent(e.to_string()))?;
        Ok(Outcome::emit(output))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_and_base64_are_both_understood() {
        let message = "From: a@example.com\r\nSubject: hi\r\n\r\nbody";
        let encoded = base64::engine::general_purpose::STANDARD.encode(message);
        assert_eq!(decode(message, "auto").unwrap(), message.as_bytes());
        assert_eq!(decode(&encoded, "auto").unwrap(), message.as_bytes());
        assert_eq!(decode(&encoded, "text").unwrap(), encoded.as_bytes());
        assert!(decode("***", "base64").is_err());
    }
}
