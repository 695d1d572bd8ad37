//! The integration file format (`integrations/<vendor>.yaml`), as read from YAML.
//!
//! The reference for authors is `docs/integrations.md`. An integration is data: where the
//! vendor's API is, which credential it takes and where that credential may be sent, how
//! fast it may be called, and named actions, each a request template over declared inputs
//! plus how its response becomes the action's output. Strings in `request`, `output`,
//! `errors` and `rate_limit` are expressions, like playbook options.

use std::collections::BTreeMap;

use muster_model::HumanDuration;
use muster_model::playbook::InputType;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One integration file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationFile {
    /// The vendor's name in action types (`virustotal` in `virustotal.ip_report`); the file
    /// is `<vendor>.yaml`.
    pub vendor: String,
    /// The product's name as people write it (`VirusTotal`).
    pub title: String,
    /// One line: what the integration is for.
    pub summary: String,
    /// The vendor's API documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Where every request path starts (`https://www.virustotal.com/api/v3`); actions may
    /// override it, and playbooks with the `base_url` option. Without one, playbooks must
    /// set `base_url` (on-premises products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The credential the integration's requests carry; none for public feeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialDecl>,
    /// The vendor's quota, as `N/period` (or an expression giving it); requests over it
    /// wait. Counted per credential (per host without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    /// A response header that says, in seconds, when to come back after a 429, for vendors
    /// that do not send `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_header: Option<String>,
    /// Headers of every request (templates); an action's own headers override them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// How the vendor reports errors, for every action (an action may override either part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<ErrorsDecl>,
    /// The named actions.
    pub actions: BTreeMap<String, ActionDecl>,
}

/// The credential an integration (or one of its actions) uses.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialDecl {
    /// The credential type to create (`text` for an API key or token, `basic` for a user
    /// name and password, or another type of `docs/credentials.md`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The credential name used when a playbook does not set the `credential` option.
    pub name: String,
    /// Hosts the credential may be sent to (`www.virustotal.com`, `*.atlassian.net`); create
    /// the credential with them.
    pub allowed_domains: Vec<String>,
    /// What the secret is and where to find it.
    pub description: String,
}

/// How a vendor says that something went wrong.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsDecl {
    /// An expression over `response` that is true when a successful HTTP status carries an
    /// error (Slack's `{"ok": false}`); such a response fails the action (`permanent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// An expression over `response` giving the vendor's own words for an error, added to
    /// the message of every failed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One action of an integration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDecl {
    /// One line: what the action does.
    pub summary: String,
    /// More about it (Markdown): what the output holds, what the errors mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The action's options, by name, in the order written (which is the order they are
    /// documented in).
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub inputs: Named<InputDecl>,
    /// The request.
    pub request: RequestDecl,
    /// The output, built from `response` (`{status, headers, body}`) and `inputs`; the
    /// response itself when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// What some statuses mean for this action, by status code (`404: ok`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub on_status: BTreeMap<String, StatusDecl>,
    /// Overrides the integration's `errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<ErrorsDecl>,
    /// Overrides the integration's `base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Overrides the integration's `credential` (an action that takes another secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialDecl>,
    /// Overrides the integration's `rate_limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    /// A YAML snippet showing typical use (one playbook action); generated from the inputs'
    /// examples when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// A mapping that keeps the order its entries were written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Named<T> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(n, _)| n)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(n, v)| (n, v))
    }
}

impl<'a, T> IntoIterator for &'a Named<T> {
    type Item = (&'a String, &'a T);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, T)>,
        fn(&'a (String, T)) -> (&'a String, &'a T),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, v)| (n, v))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
            type Value = Named<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Named<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    entries.push((name, map.next_value()?));
                }
                Ok(Named(entries))
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One input (option) of an integration action.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputDecl {
    /// The JSON type: string, number, integer, boolean, object, array or any.
    #[serde(rename = "type")]
    pub kind: InputType,
    /// What it is.
    pub description: String,
    /// Whether playbooks must set it (default: true unless there is a default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The value used when it is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The allowed values.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<Value>>,
    /// A regular expression a string value must match (the whole of it), checked before
    /// anything is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A value shown in the generated example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

impl InputDecl {
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(self.default.is_none())
    }
}

/// The request template of an action.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDecl {
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default = "get")]
    pub method: String,
    /// Appended to the base URL (`/ip_addresses/{{ inputs.ip }}`); empty for the base URL
    /// itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// A whole URL instead of `path`, for a webhook whose URL is the secret
    /// (`{{ credentials[credential] }}`); the base URL does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Authentication by the credential's type, as `http_request`'s `auth` option
    /// (`{{ credentials[credential] }}`): `basic` becomes basic auth, `text` a bearer token, the
    /// token types a current token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Query parameters, as a mapping or one expression giving one; a null value leaves the
    /// parameter out, a list repeats it.
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub query: Value,
    /// Headers; a null value leaves the header out.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// A form body; a null value leaves the field out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Map<String, Value>>,
    /// A raw text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How to read the response body: `auto` (default), `json` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Pagination, as `http_request`'s `paginate` option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paginate: Option<Value>,
}

fn get() -> String {
    "GET".to_string()
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// What a status means: a class alone, or with a message and a time to wait.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StatusDecl {
    Class(StatusClass),
    Detailed(StatusDetail),
}

impl<'de> Deserialize<'de> for StatusDecl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(deserializer)? {
            Value::String(text) => serde_json::from_value(Value::String(text))
                .map(StatusDecl::Class)
                .map_err(|_| D::Error::custom(STATUS_EXPECTED)),
            value @ Value::Object(_) => serde_json::from_value(value)
                .map(StatusDecl::Detailed)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(STATUS_EXPECTED)),
        }
    }
}

const STATUS_EXPECTED: &str = "expected `ok`, `transient`, `rate_limited` or `permanent`, or a \
                               mapping with `class` (and `message`, `retry_after`)";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusDetail {
    pub class: StatusClass,
    /// Replaces `HTTP <status>` in the error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `rate_limited` without a `Retry-After`: how long to wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<HumanDuration>,
}

/// `ok` (the response is the output, like a 2xx) or an error class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    Ok,
    Transient,
    RateLimited,
    Permanent,
}

impl StatusDecl {
    pub fn class(&self) -> StatusClass {
        match self {
            StatusDecl::Class(class) => *class,
            StatusDecl::Detailed(detail) => detail.class,
        }
    }

    pub fn message(&self) -> Option<&str> {
        match self {
            StatusDecl::Class(_) => None,
            StatusDecl::Detailed(detail) => detail.message.as_deref(),
        }
    }

    pub fn retry_after(&self) -> Option<HumanDuration> {
        match self {
            StatusDecl::Class(_) => None,
            StatusDecl::Detailed(detail) => detail.retry_after,
        }
    }
}
