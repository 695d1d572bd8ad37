//! The credential types and their fields: what is secret in each, and what a reference to a
//! field reveals.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A credential's value, as sealed. `Debug` never shows it.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Secret {
    /// An API key or token.
    Text { value: String },
    /// A user name and password (HTTP basic auth, SMTP, IMAP).
    Basic { username: String, password: String },
    /// A header sent as is (`X-Api-Key: …`).
    Header { name: String, value: String },
    /// OAuth 2.0 client credentials grant: a token fetched from `token_url`, cached until it
    /// expires.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
    },
    /// A token obtained by a request of the user's own (a login call), read from the response.
    HttpToken {
        url: String,
        #[serde(default = "post")]
        method: String,
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        headers: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form: Option<Map<String, Value>>,
        /// Where the token is: `body.access_token` (a dot path into the JSON body) or
        /// `headers.x-auth-token`.
        token_path: String,
        /// How long a token is used before a new one is fetched (default 1h).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<String>,
        /// The header the token is sent in (default `Authorization`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Text before the token in that header (default `Bearer `).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// A JSON Web Token signed per request with an HMAC key.
    Jwt {
        /// `HS256` (default), `HS384` or `HS512`.
        #[serde(default = "hs256")]
        algorithm: String,
        key: String,
        #[serde(default)]
        claims: Map<String, Value>,
        /// Lifetime of each token (`exp`), default 5m.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
}

fn post() -> String {
    "POST".into()
}

fn hs256() -> String {
    "HS256".into()
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.kind())
    }
}

/// The shortest value treated as secret text by redaction: shorter strings (a PIN, `yes`)
/// would scramble unrelated output.
const MIN_REDACTED_LEN: usize = 4;

impl Secret {
    /// The credential types, as written in `type`.
    pub const KINDS: [&'static str; 6] = [
        "text",
        "basic",
        "header",
        "oauth2_client_credentials",
        "http_token",
        "jwt",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Secret::Text { .. } => "text",
            Secret::Basic { .. } => "basic",
            Secret::Header { .. } => "header",
            Secret::OAuth2ClientCredentials { .. } => "oauth2_client_credentials",
            Secret::HttpToken { .. } => "http_token",
            Secret::Jwt { .. } => "jwt",
        }
    }

    /// Reads a credential value given as JSON (`{"type": "basic", "username": …}`), with a
    /// message that says what is wrong.
    pub fn from_json(value: Value) -> Result<Self, String> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string);
        let secret: Secret = serde_json::from_value(value).map_err(|e| match &kind {
            Some(kind) if !Self::KINDS.contains(&kind.as_str()) => format!(
                "unknown credential type `{kind}`; use one of {}",
                Self::KINDS.join(", ")
            ),
            Some(kind) => format!("a `{kind}` credential: {}", without_values(&e.to_string())),
            None => format!("the credential needs a `type` ({})", Self::KINDS.join(", ")),
        })?;
        secret.check()?;
        Ok(secret)
    }

    fn check(&self) -> Result<(), String> {
        let empty = |field: &str, value: &str| {
            if value.is_empty() {
                Err(format!("`{field}` must not be empty"))
            } else {
                Ok(())
            }
        };
        match self {
            Secret::Text { value } => empty("value", value),
            Secret::Basic { username, .. } => empty("username", username),
            Secret::Header { name, value } => {
                empty("value", value)?;
                check_header_name(name)
            }
            Secret::OAuth2ClientCredentials {
                token_url,
                client_id,
                ..
            } => {
                empty("client_id", client_id)?;
                http_url("token_url", token_url)
            }
            Secret::HttpToken {
                url, token_path, ..
            } => {
                http_url("url", url)?;
                if token_path.starts_with("body") || token_path.starts_with("headers.") {
                    Ok(())
                } else {
                    Err("`token_path` must start with `body` or `headers.`".into())
                }
            }
            Secret::Jwt { algorithm, key, .. } => {
                empty("key", key)?;
                if matches!(algorithm.as_str(), "HS256" | "HS384" | "HS512") {
                    Ok(())
                } else {
                    Err(format!(
                        "unsupported JWT algorithm `{algorithm}`; use HS256, HS384 or HS512"
                    ))
                }
            }
        }
    }

    /// What `{{ credentials.NAME.FIELD }}` reveals; `None` for a field the type does not have
    /// (or one that is not sent anywhere, such as a JWT's key).
    pub fn field(&self, field: &str) -> Option<&str> {
        match (self, field) {
            (Secret::Text { value }, "value") => Some(value),
            (Secret::Basic { username, .. }, "username") => Some(username),
            (Secret::Basic { password, .. }, "password") => Some(password),
            (Secret::Header { name, .. }, "name") => Some(name),
            (Secret::Header { value, .. }, "value") => Some(value),
            (Secret::OAuth2ClientCredentials { client_id, .. }, "client_id") => Some(client_id),
            (Secret::OAuth2ClientCredentials { client_secret, .. }, "client_secret") => {
                Some(client_secret)
            }
            _ => None,
        }
    }

    /// The fields a reference may name, for messages.
    pub fn field_names(&self) -> &'static [&'static str] {
        match self {
            Secret::Text { .. } => &["value"],
            Secret::Basic { .. } => &["username", "password"],
            Secret::Header { .. } => &["name", "value"],
            Secret::OAuth2ClientCredentials { .. } => &["client_id", "client_secret"],
            Secret::HttpToken { .. } | Secret::Jwt { .. } => &[],
        }
    }

    /// What `{{ credentials.NAME }}` reveals for types with one static value; `None` for the
    /// types whose value is a token made at request time.
    pub fn main_value(&self) -> Option<&str> {
        match self {
            Secret::Text { value } | Secret::Header { value, .. } => Some(value),
            Secret::Basic { password, .. } => Some(password),
            _ => None,
        }
    }

    /// Every string redaction must hide: secret fields and the forms they travel in.
    pub fn secret_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Secret::Text { value } | Secret::Header { value, .. } => out.push(value.clone()),
            Secret::Basic { username, password } => {
                out.push(password.clone());
                out.push(
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{password}")),
                );
            }
            Secret::OAuth2ClientCredentials {
                client_id,
                client_secret,
                ..
            } => {
                out.push(client_secret.clone());
                out.push(
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{client_id}:{client_secret}")),
                );
            }
            Secret::HttpToken {
                headers,
                json,
                form,
                ..
            } => {
                for value in headers.values() {
                    collect_strings(value, &mut out);
                }
                if let Some(json) = json {
                    collect_strings(json, &mut out);
                }
                for value in form.iter().flat_map(|f| f.values()) {
                    collect_strings(value, &mut out);
                }
            }
            Secret::Jwt { key, .. } => out.push(key.clone()),
        }
        out.retain(|s| s.len() >= MIN_REDACTED_LEN);
        out
    }
}

/// Whether `text` is long enough to be redacted (see [`Secret::secret_strings`]).
pub(crate) fn redactable(text: &str) -> bool {
    text.len() >= MIN_REDACTED_LEN
}

/// serde names the value it did not expect (`invalid type: string "hunter2", expected a map`);
/// a credential's value must not reach a message, so only its kind is kept.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        let Some(start) = message.find(prefix).map(|i| i + prefix.len()) else {
            continue;
        };
        // The expectation never holds a value; the value may hold ", expected ".
        let Some(end) = message.rfind(", expected ").filter(|&end| end >= start) else {
            return format!("{}a value of the wrong type", &message[..start]);
        };
        let unexpected = &message[start..end];
        let kind = unexpected
            .split(['`', '"'])
            .next()
            .unwrap_or_default()
            .trim_end();
        return format!("{}{kind}{}", &message[..start], &message[end..]);
    }
    message.to_string()
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn http_url(field: &str, text: &str) -> Result<(), String> {
    if text.starts_with("https://") || text.starts_with("http://") {
        Ok(())
    } else {
        Err(format!("`{field}` must be an http or https URL"))
    }
}

fn check_header_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid header name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_type_reads_from_json_and_names_its_problems() {
        let basic =
            Secret::from_json(json!({"type": "basic", "username": "svc", "password": "hunter22"}))
                .unwrap();
        assert_eq!(basic.field("password"), Some("hunter22"));
        assert_eq!(basic.main_value(), Some("hunter22"));
        assert!(basic.secret_strings().contains(&"hunter22".to_string()));
        assert!(!basic.secret_strings().contains(&"svc".to_string()));
        assert!(format!("{basic:?}").contains("basic"));
        assert!(!format!("{basic:?}").contains("hunter22"));

        let unknown = Secret::from_json(json!({"type": "ssh", "value": "x"})).unwrap_err();
        assert!(
            unknown.contains("unknown credential type `ssh`"),
            "{unknown}"
        );
        let missing = Secret::from_json(json!({"type": "text"})).unwrap_err();
        assert!(missing.contains("value"), "{missing}");
        let extra =
            Secret::from_json(json!({"type": "text", "value": "x", "other": 1})).unwrap_err();
        assert!(extra.contains("other"), "{extra}");
        let untyped = Secret::from_json(json!({"value": "x"})).unwrap_err();
        assert!(untyped.contains("needs a `type`"), "{untyped}");
        let algorithm = Secret::from_json(json!({"type": "jwt", "key": "k", "algorithm": "RS256"}))
            .unwrap_err();
        assert!(algorithm.contains("RS256"), "{algorithm}");
        let token = Secret::from_json(
            json!({"type": "http_token", "url": "ftp://x", "token_path": "body.t"}),
        )
        .unwrap_err();
        assert!(token.contains("url"), "{token}");
    }

    #[test]
    fn messages_about_wrong_types_do_not_quote_the_value() {
        let number = Secret::from_json(
            json!({"type": "basic", "username": "svc", "password": 81_726_354_u64}),
        )
        .unwrap_err();
        assert!(number.contains("integer, expected a string"), "{number}");
        assert!(!number.contains("81726354"), "{number}");
        let text = Secret::from_json(json!({
            "type": "http_token", "url": "https://x.example", "token_path": "body.t",
            "headers": "hunter2-secret, expected a map"
        }))
        .unwrap_err();
        assert!(
            text.contains("invalid type: string, expected a map"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn the_value_round_trips_through_json() {
        let secret = Secret::from_json(json!({
            "type": "oauth2_client_credentials",
            "token_url": "https://login.example.com/oauth2/token",
            "client_id": "muster",
            "client_secret": "c1ient-secret",
            "scope": "alerts.read"
        }))
        .unwrap();
        let again: Secret = serde_json::from_value(serde_json::to_value(&secret).unwrap()).unwrap();
        assert!(again == secret);
    }
}
