//! Redaction: secret values (and tokens derived from them) that this process has handled are
//! replaced by `[redacted:NAME]` wherever the engine records or reports text — event outputs,
//! run errors, logs — and so are credential references (markers) that reached an output.

use std::sync::{Arc, RwLock};

use aho_corasick::AhoCorasick;
use muster_model::expr::{has_references, replace_references};
use serde_json::Value;

use super::secret::redactable;

/// The set of secret strings to hide. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<RwLock<Known>>,
}

#[derive(Default)]
struct Known {
    /// Secret text and the credential it belongs to.
    secrets: Vec<(String, String)>,
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// Adds secret strings of credential `name`.
    pub fn learn(&self, name: &str, secrets: impl IntoIterator<Item = String>) {
        let mut known = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let before = known.secrets.len();
        for secret in secrets {
            if redactable(&secret) && !known.secrets.iter().any(|(s, _)| *s == secret) {
                known.secrets.push((secret, name.to_string()));
            }
        }
        if known.secrets.len() != before {
            let patterns: Vec<&str> = known.secrets.iter().map(|(s, _)| s.as_str()).collect();
            known.matcher = AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(patterns)
                .ok();
        }
    }

    /// `text` with secrets and credential markers replaced.
    pub fn redact(&self, text: &str) -> String {
        self.known().redact(text)
    }

    /// Whether `text` holds anything [`redact`](Self::redact) would change.
    pub fn needs(&self, text: &str) -> bool {
        self.known().needs(text)
    }

    /// Redacts every string (and key) in a JSON value, in place.
    pub fn redact_json(&self, value: &mut Value) {
        self.known().redact_json(value);
    }

    fn known(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Known {
    fn redact(&self, text: &str) -> String {
        let text = if has_references(text) {
            replace_references::<()>(text, |r| Ok(format!("[redacted:{}]", r.name)))
                .unwrap_or_default()
        } else {
            text.to_string()
        };
        match &self.matcher {
            Some(matcher) if matcher.is_match(&text) => {
                let mut out = String::with_capacity(text.len());
                let mut last = 0;
                for found in matcher.find_iter(&text) {
                    out.push_str(&text[last..found.start()]);
                    out.push_str(&format!(
                        "[redacted:{}]",
                        self.secrets[found.pattern().as_usize()].1
                    ));
                    last = found.end();
                }
                out.push_str(&text[last..]);
                out
            }
            _ => text,
        }
    }

    fn needs(&self, text: &str) -> bool {
        has_references(text) || self.matcher.as_ref().is_some_and(|m| m.is_match(text))
    }

    /// One lock for the whole value: this runs on every action's output.
    fn redact_json(&self, value: &mut Value) {
        match value {
            Value::String(text) if self.needs(text) => *text = self.redact(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                if map.keys().any(|k| self.needs(k)) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(k, v)| (self.redact(&k), v))
                        .collect();
                }
                map.values_mut().for_each(|v| self.redact_json(v));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_model::expr::CredentialRef;
    use serde_json::json;

    #[test]
    fn secrets_and_markers_are_replaced_everywhere_in_json() {
        let redactor = Redactor::default();
        redactor.learn("vt", ["k3y-value".to_string(), "ab".to_string()]);
        let marker = CredentialRef {
            name: "jira".into(),
            field: Some("password".into()),
        }
        .marker();
        let mut value = json!({
            "echo": "auth=k3y-value&x=1",
            "list": ["ab", format!("Basic {marker}")],
            "k3y-value": 3,
            "n": 1
        });
        redactor.redact_json(&mut value);
        assert_eq!(
            value,
            json!({
                "echo": "auth=[redacted:vt]&x=1",
                "list": ["ab", "Basic [redacted:jira]"],
                "[redacted:vt]": 3,
                "n": 1
            })
        );
        assert_eq!(redactor.redact("no secrets"), "no secrets");
    }
}
