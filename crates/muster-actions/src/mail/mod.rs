//! Email out and in: SMTP submission for `send_email` ([`smtp`], [`message`]) and IMAP polling
//! for the `email_inbox` trigger ([`imap`]), over TLS set up by [`tls`].
//!
//! Mail servers are named by operators and playbook authors, not by the events a run
//! processes, so the HTTP client's SSRF guard does not apply to them: an internal relay or
//! mailbox is the normal case.

pub mod imap;
pub mod message;
pub mod send_email;
pub mod smtp;
pub mod tls;

use muster_engine::ActionError;
use muster_engine::credentials::Unsealed;
use schemars::JsonSchema;
use serde::Deserialize;

/// The username and password of a `basic` credential (already checked for the server's host).
pub fn basic_login(unsealed: Unsealed) -> Result<(String, String), ActionError> {
    match unsealed.secret {
        muster_engine::Secret::Basic { username, password } => Ok((username, password)),
        other => Err(ActionError::permanent(format!(
            "credential `{}` is a `{}` credential; a mail server login needs a `basic` one \
             (username and password)",
            unsealed.name,
            other.kind()
        ))),
    }
}

/// How a mail connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (SMTP port 465, IMAP port 993).
    Tls,
    /// Plain text upgraded with STARTTLS, which must succeed (SMTP 587, IMAP 143).
    Starttls,
    /// Plain text throughout: for a relay on the same host or a test server only.
    None,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::None => "none",
        }
    }
}

impl std::str::FromStr for Security {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "tls" => Ok(Security::Tls),
            "starttls" => Ok(Security::Starttls),
            "none" => Ok(Security::None),
            other => Err(format!("`{other}` is not tls, starttls or none")),
        }
    }
}
