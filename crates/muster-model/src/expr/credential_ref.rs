//! `credentials.NAME` in expressions: a reference, never the secret.
//!
//! Expressions render a credential as an opaque marker (`@@credential:NONCE:NAME@@`, or
//! `…:NAME.FIELD@@` for one field of a typed credential). Only the code that sends a request
//! (HTTP, SMTP) swaps markers for secret values, at the last moment and after checking the
//! credential's allowed domains against the destination; every other action sees the marker,
//! and the engine replaces markers with `[redacted:NAME]` in everything it records. The nonce
//! is random per process, so a marker cannot be forged by data from outside (an alert that
//! carries a marker-shaped string), and a marker that leaked into stored data is inert.
//!
//! A marker survives concatenation (`"Bearer " ~ credentials.api`) but not transformation
//! (`credentials.api | upper`): a transformed marker is no longer recognised and nothing
//! secret is sent.

use std::fmt;
use std::sync::{Arc, LazyLock};

use minijinja::Value;
use minijinja::value::{Object, ObjectRepr};

const PREFIX: &str = "@@credential:";
const SUFFIX: &str = "@@";

/// This process's marker nonce.
static NONCE: LazyLock<String> = LazyLock::new(|| {
    let random = uuid::Uuid::now_v7().simple().to_string();
    random[random.len() - 16..].to_string()
});

/// A reference to a credential (or one of its fields) found in rendered text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialRef {
    pub name: String,
    /// A field of a typed credential (`username`, `password`, …); `None` for its main value.
    pub field: Option<String>,
}

impl CredentialRef {
    /// The marker that stands for this reference in rendered text.
    pub fn marker(&self) -> String {
        match &self.field {
            Some(field) => format!("{PREFIX}{}:{}.{field}{SUFFIX}", *NONCE, self.name),
            None => format!("{PREFIX}{}:{}{SUFFIX}", *NONCE, self.name),
        }
    }

    /// `NAME` or `NAME.FIELD`, for messages.
    pub fn label(&self) -> String {
        match &self.field {
            Some(field) => format!("{}.{field}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The `credentials` variable of the expression scope.
pub fn credentials_variable() -> Value {
    static ROOT: LazyLock<Value> = LazyLock::new(|| Value::from_object(Credentials));
    ROOT.clone()
}

/// Whether `text` holds at least one marker of this process.
pub fn has_references(text: &str) -> bool {
    text.contains(PREFIX) && text.contains(NONCE.as_str())
}

/// Replaces every marker of this process in `text` with what `replace` returns for it.
/// Text without markers is returned unchanged (and unallocated when the caller checks
/// [`has_references`] first).
pub fn replace_references<E>(
    text: &str,
    mut replace: impl FnMut(&CredentialRef) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(PREFIX) {
        out.push_str(&rest[..start]);
        let after = &rest[start + PREFIX.len()..];
        match parse(after) {
            Some((reference, consumed)) => {
                out.push_str(&replace(&reference)?);
                rest = &after[consumed..];
            }
            None => {
                out.push_str(PREFIX);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Every reference in `text`, in order.
pub fn references(text: &str) -> Vec<CredentialRef> {
    let mut found = Vec::new();
    let _ = replace_references::<()>(text, |reference| {
        found.push(reference.clone());
        Ok(String::new())
    });
    found
}

/// Parses `NONCE:NAME[.FIELD]@@` at the start of `text`; returns the reference and the bytes
/// consumed.
fn parse(text: &str) -> Option<(CredentialRef, usize)> {
    let body = text.strip_prefix(NONCE.as_str())?.strip_prefix(':')?;
    let end = body.find(SUFFIX)?;
    let inner = &body[..end];
    let (name, field) = match inner.split_once('.') {
        Some((name, field)) => (name, Some(field)),
        None => (inner, None),
    };
    if !valid_name(name) || field.is_some_and(|f| !valid_name(f)) {
        return None;
    }
    let consumed = NONCE.len() + 1 + end + SUFFIX.len();
    Some((
        CredentialRef {
            name: name.to_string(),
            field: field.map(str::to_string),
        },
        consumed,
    ))
}

/// Credential and field names: letters, digits, `_` and `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `credentials`: any attribute is a reference; whether it exists is checked when it is used.
#[derive(Debug)]
struct Credentials;

impl Object for Credentials {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str().filter(|name| valid_name(name))?;
        Some(Value::from_object(CredentialRef {
            name: name.to_string(),
            field: None,
        }))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<credentials>")
    }
}

impl Object for CredentialRef {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if self.field.is_some() {
            return None;
        }
        let field = key.as_str().filter(|field| valid_name(field))?;
        Some(Value::from_object(CredentialRef {
            name: self.name.clone(),
            field: Some(field.to_string()),
        }))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.marker())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_inside_text() {
        let api = CredentialRef {
            name: "virustotal".into(),
            field: None,
        };
        let password = CredentialRef {
            name: "jira".into(),
            field: Some("password".into()),
        };
        let text = format!("Bearer {} and {}!", api.marker(), password.marker());
        assert!(has_references(&text));
        assert_eq!(references(&text), vec![api, password]);
        let revealed = replace_references::<()>(&text, |r| Ok(format!("<{}>", r.label()))).unwrap();
        assert_eq!(revealed, "Bearer <virustotal> and <jira.password>!");
    }

    #[test]
    fn forged_or_broken_markers_are_left_alone() {
        for text in [
            "@@credential:0000000000000000:x@@",
            "@@credential:",
            "plain text",
            "@@credential:@@",
        ] {
            assert!(references(text).is_empty(), "{text}");
            assert_eq!(
                replace_references::<()>(text, |_| Ok("!".into())).unwrap(),
                text
            );
        }
        let transformed = CredentialRef {
            name: "x".into(),
            field: None,
        }
        .marker()
        .to_uppercase();
        assert!(references(&transformed).is_empty());
    }
}
