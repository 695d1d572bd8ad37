//! `email_inbox`: polls IMAP folders and starts one run per new message, with the message
//! taken apart by `muster_intel::email` (the same document `parse_email` emits).
//!
//! Each message is started with its Message-ID (or, without one, the SHA-256 of the message)
//! as the run's once-key, in the same transaction as the run: a message is never started twice
//! by this trigger, even when marking it seen failed or the process restarted in between.
//! Only after the run is durable is the message marked seen, moved or deleted.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use muster_engine::{
    Action, ActionContext, ActionError, ActionSpec, Outcome, PollContext, Started,
};
use muster_model::{ActionDef, HumanDuration, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::mail::imap::{Fetched, Imap, ImapServer};
use crate::mail::tls::TlsCheck;
use crate::mail::{Security, basic_login};

/// Options of `email_inbox`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmailInboxOptions {
    /// The IMAP server.
    host: String,
    /// Default: 993 with `security: tls`, 143 otherwise.
    #[serde(default)]
    port: Option<u16>,
    /// `tls` (default), `starttls` or `none`.
    #[serde(default)]
    security: Option<Security>,
    /// The login name (with `password`); may be a credential reference.
    #[serde(default)]
    username: Option<String>,
    /// The password, normally a credential reference: `"{{ credentials.NAME }}"` or
    /// `"{{ credentials.NAME.password }}"`.
    #[serde(default)]
    password: Option<String>,
    /// A `basic` credential to log in with, instead of `username` and `password`; it must
    /// allow `host`.
    #[serde(default)]
    credential: Option<String>,
    /// Folders to poll (default: `[INBOX]`).
    #[serde(default)]
    folders: Option<Vec<String>>,
    /// Time between polls (default: 1m; at least 1s).
    #[serde(default)]
    #[allow(dead_code)] // read from the definition by `poll_interval`
    interval: Option<String>,
    /// IMAP search criteria selecting the messages to start (default: `UNSEEN`).
    #[serde(default)]
    search: Option<String>,
    /// What to do with a message once its run started: `mark_seen` (default), `move` (to
    /// `move_to`) or `delete`.
    #[serde(default)]
    after: Option<After>,
    /// The folder `after: move` moves messages to.
    #[serde(default)]
    move_to: Option<String>,
    /// The most messages started per poll, over all folders (default: 50).
    #[serde(default)]
    max_messages: Option<usize>,
    /// Messages larger than this many bytes are started with their header only, and
    /// `truncated: true` (default: 26214400, 25 MiB).
    #[serde(default)]
    max_bytes: Option<u64>,
    /// Add the raw message as `raw_base64` to the trigger event (default: false), e.g. to
    /// attach it to a `send_email` or upload it to a sandbox.
    #[serde(default)]
    include_raw: Option<bool>,
    /// Limit for connecting and for each IMAP command (default: 30s).
    #[serde(default)]
    timeout: Option<String>,
    /// Verify the server's certificate (default: true). `false` accepts any certificate.
    #[serde(default)]
    tls_verify: Option<bool>,
    /// A PEM file of CA certificates to trust besides the system's.
    #[serde(default)]
    ca_file: Option<String>,
}

/// What happens to a message after its run started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum After {
    #[default]
    MarkSeen,
    Move,
    Delete,
}

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_MAX_MESSAGES: usize = 50;
const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("email_inbox"),
    summary: Cow::Borrowed("Start a run for each new email in IMAP folders."),
    description: Cow::Borrowed(
        "Polls `folders` every `interval` for messages matching `search` (default \
         `UNSEEN`), oldest first, at most `max_messages` per poll, and starts one run \
         per message. The trigger event is `{message_id, folder, uid, size, truncated, \
         email}`, where `email` is the document `parse_email` emits (sender, subject, \
         bodies, links, attachments, authentication results, indicators); with \
         `include_raw: true` also `raw_base64`. Messages are read with `BODY.PEEK`, \
         so reading alone never marks them seen.\n\n\
         Each message starts at most one run of this trigger, ever: its Message-ID \
         (`sha256:` of the message when it has none) is recorded with the run in the \
         same transaction, so a message seen again (because marking it failed, after \
         a restart, or in another folder) starts nothing. Once the run is durable the \
         message is marked `\\Seen` (`after: mark_seen`, default), moved to `move_to` \
         (`after: move`; IMAP MOVE, or copy and delete), or deleted (`after: \
         delete`).\n\n\
         A failing poll (server unreachable, login refused) is logged and shown as \
         the trigger's `polling.last_error` in the playbook API; the next poll waits \
         twice as long each time, up to 15 minutes. Polling stops when the playbook \
         is disabled or deleted. A message given by hand as a JSON string (or \
         `{\"raw\": ...}`) is parsed the same way: `muster run FILE --event \
         \"$(jq -Rs . message.eml)\"` or the manual trigger API.",
    ),
    trigger: true,
    ports: &[],
    options: crate::options::schema::<EmailInboxOptions>(),
    example: Cow::Borrowed(
        "- id: reported\n  type: email_inbox\n  options:\n    host: imap.example.com\n    credential: phishing_mailbox\n    folders: [INBOX]\n    interval: 1m\n    after: move\n    move_to: Processed\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct EmailInbox;

/// The interval of a configured trigger, when written as a literal.
fn interval(def: &ActionDef) -> Result<Duration, String> {
    match def.options.get("interval") {
        None => Ok(DEFAULT_INTERVAL),
        Some(Value::String(text)) => {
            let parsed: HumanDuration = text.parse().map_err(|e| format!("{e}"))?;
            let parsed = parsed.as_duration();
            if parsed < MIN_INTERVAL {
                Err(format!("`{text}` is shorter than the minimum of 1s"))
            } else {
                Ok(parsed)
            }
        }
        Some(other) => Err(format!("expected a duration like 1m, got {other}")),
    }
}

#[async_trait]
impl Action for EmailInbox {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        let has = |name: &str| def.options.contains_key(name);
        if has("credential") && (has("username") || has("password")) {
            problems.push(OptionProblem {
                path: "credential".into(),
                message: "set `credential` or `username` and `password`, not both".into(),
                hint: None,
            });
        } else if !(has("credential") || (has("username") && has("password"))) {
            problems.push(OptionProblem {
                path: String::new(),
                message: "the mailbox needs a login: `credential`, or `username` and `password`"
                    .into(),
                hint: Some("e.g. `credential: phishing_mailbox` (a `basic` credential)".into()),
            });
        }
        if let Err(message) = interval(def) {
            problems.push(OptionProblem {
                path: "interval".into(),
                message,
                hint: Some("for example `30s` or `5m`".into()),
            });
        }
        let after = def.options.get("after").and_then(Value::as_str);
        let move_to = def.options.get("move_to");
        if after == Some("move") && move_to.is_none() {
            problems.push(OptionProblem {
                path: "move_to".into(),
                message: "`after: move` needs `move_to`".into(),
                hint: Some("name the folder processed messages go to".into()),
            });
        }
        if move_to.is_some() && after != Some("move") {
            problems.push(OptionProblem {
                path: "move_to".into(),
                message: "`move_to` is only used with `after: move`".into(),
                hint: None,
            });
        }
        if let Some(Value::String(timeout)) = def.options.get("timeout")
            && let Err(e) = timeout.parse::<HumanDuration>()
        {
            problems.push(OptionProblem {
                path: "timeout".into(),
                message: e.to_string(),
                hint: None,
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        Ok(Outcome::emit(ctx.input_output().clone()))
    }

    /// A message given by hand: the raw message as a JSON string, or `{raw: ...}`.
    fn trigger_output(&self, def: &ActionDef, payload: Value) -> Value {
        let raw = match &payload {
            Value::String(raw) => raw.as_str(),
            Value::Object(map) => match map.get("raw") {
                Some(Value::String(raw)) => raw.as_str(),
                _ => return payload,
            },
            _ => return payload,
        };
        let report = muster_intel::email::parse(raw.as_bytes());
        let mut output = json!({
            "message_id": once_key(&report),
            "folder": null,
            "uid": null,
            "size": raw.len(),
            "truncated": false,
            "email": report,
        });
        if def.options.get("include_raw") == Some(&Value::Bool(true)) {
            output["raw_base64"] = base64::engine::general_purpose::STANDARD.encode(raw).into();
        }
        output
    }

    fn poll_interval(&self, def: &ActionDef) -> Option<Duration> {
        Some(interval(def).unwrap_or(DEFAULT_INTERVAL))
    }

    async fn poll(&self, ctx: &PollContext<'_>) -> Result<(), ActionError> {
        let options: EmailInboxOptions = crate::options::parse(ctx.options()?)?;
        let host = options.host.as_str();
        let login = match (&options.credential, &options.username, &options.password) {
            (Some(name), _, _) => basic_login(ctx.credential(name, host).await?)?,
            (None, Some(username), Some(password)) => (
                ctx.reveal(username, host).await?,
                ctx.reveal(password, host).await?,
            ),
            _ => {
                return Err(ActionError::permanent(
                    "the mailbox needs a login: `credential`, or `username` and `password`",
                ));
            }
        };
        let server = server(&options, login)?;
        let folders = options
            .folders
            .clone()
            .unwrap_or_else(|| vec!["INBOX".to_string()]);
        let search = options.search.as_deref().unwrap_or("UNSEEN");
        let mut budget = options.max_messages.unwrap_or(DEFAULT_MAX_MESSAGES);
        let mut imap = Imap::connect(&server).await?;
        // The first failure to tidy up a message is reported once the others were handled:
        // their runs are started already, and the message is not started again.
        let mut tidy_failure = None;
        for folder in &folders {
            if budget == 0 {
                break;
            }
            imap.select(folder).await?;
            let uids = imap.search(search).await?;
            for uid in uids.into_iter().take(budget) {
                budget -= 1;
                let max_bytes = options.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
                let Some(fetched) = imap.fetch(uid, max_bytes).await? else {
                    continue;
                };
                let (output, key) = event(&fetched, folder, uid, &options);
                match ctx.start_run(output, Some(key.clone())).await? {
                    Started::Run(run) => {
                        tracing::info!(playbook = %ctx.playbook.name(), message_id = %key, folder = %folder, uid, run_id = %run, "an email started a run");
                    }
                    Started::Duplicate { run_id } => {
                        tracing::debug!(message_id = %key, run_id = %run_id, "email already started a run");
                    }
                }
                let tidied = match options.after.unwrap_or_default() {
                    After::MarkSeen => imap.mark_seen(uid).await,
                    After::Move => {
                        let to = options.move_to.as_deref().unwrap_or_default();
                        imap.move_to(uid, to).await
                    }
                    After::Delete => imap.delete(uid).await,
                };
                if let Err(err) = tidied {
                    tidy_failure.get_or_insert(err);
                }
            }
        }
        imap.logout().await;
        match tidy_failure {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

fn server(
    options: &EmailInboxOptions,
    (username, password): (String, String),
) -> Result<ImapServer, ActionError> {
    let security = options.security.unwrap_or(Security::Tls);
    let timeout = match &options.timeout {
        Some(text) => crate::options::duration("timeout", &Value::String(text.clone()))?,
        None => DEFAULT_TIMEOUT,
    };
    Ok(ImapServer {
        host: options.host.clone(),
        port: options.port.unwrap_or(match security {
            Security::Tls => 993,
            _ => 143,
        }),
        security,
        username,
        password,
        timeout,
        tls: TlsCheck::new(options.tls_verify, options.ca_file.clone()),
    })
}

/// The message's de-duplication key: its Message-ID without angle brackets, or the SHA-256
/// of the message when it has none.
fn once_key(report: &muster_intel::email::EmailReport) -> String {
    let id = report
        .message_id
        .as_deref()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
        })
        .filter(|id| !id.is_empty());
    match id {
        Some(id) => id.to_string(),
        None => format!("sha256:{}", report.sha256),
    }
}

/// The trigger event of a fetched message, and its once-key.
fn event(
    fetched: &Fetched,
    folder: &str,
    uid: u32,
    options: &EmailInboxOptions,
) -> (Value, String) {
    let report = muster_intel::email::parse(&fetched.raw);
    let key = once_key(&report);
    let mut output = Map::new();
    output.insert("message_id".into(), key.clone().into());
    output.insert("folder".into(), folder.into());
    output.insert("uid".into(), uid.into());
    output.insert("size".into(), fetched.size.into());
    output.insert("truncated".into(), fetched.truncated.into());
    output.insert(
        "email".into(),
        serde_json::to_value(&report).unwrap_or(Value::Null),
    );
    if options.include_raw == Some(true) {
        output.insert(
            "raw_base64".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&fetched.raw)
                .into(),
        );
    }
    (Value::Object(output), key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(options: Value) -> ActionDef {
        ActionDef {
            id: "inbox".into(),
            kind: "email_inbox".into(),
            description: None,
            options: options.as_object().cloned().unwrap(),
            retry: None,
            timeout: None,
            concurrency: None,
        }
    }

    #[test]
    fn options_are_checked_before_polling() {
        let base = json!({"host": "h", "username": "u", "password": "p"});
        assert!(EmailInbox.check(&def(base.clone())).is_empty());
        let mut bad = base.clone();
        bad["interval"] = json!("100ms");
        bad["after"] = json!("move");
        let problems = EmailInbox.check(&def(bad));
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["interval", "move_to"]);
        let mut stray = base;
        stray["move_to"] = json!("Done");
        assert_eq!(EmailInbox.check(&def(stray))[0].path, "move_to");
    }

    #[test]
    fn the_interval_defaults_to_a_minute() {
        let base = json!({"host": "h", "username": "u", "password": "p"});
        assert_eq!(
            EmailInbox.poll_interval(&def(base.clone())),
            Some(DEFAULT_INTERVAL)
        );
        let mut every = base;
        every["interval"] = json!("5m");
        assert_eq!(
            EmailInbox.poll_interval(&def(every)),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn messages_without_an_id_are_keyed_by_their_hash() {
        let with = muster_intel::email::parse(b"Message-ID: <abc@example.com>\r\n\r\nx");
        assert_eq!(once_key(&with), "abc@example.com");
        let without = muster_intel::email::parse(b"Subject: hi\r\n\r\nx");
        assert_eq!(once_key(&without), format!("sha256:{}", without.sha256));
    }

    #[test]
    fn a_message_given_by_hand_is_parsed() {
        let out = EmailInbox.trigger_output(
            &def(json!({})),
            json!("Message-ID: <m1@example.com>\r\nSubject: Invoice\r\n\r\nPay now"),
        );
        assert_eq!(out["message_id"], "m1@example.com");
        assert_eq!(out["email"]["subject"], "Invoice");
        let passthrough = EmailInbox.trigger_output(&def(json!({})), json!({"a": 1}));
        assert_eq!(passthrough, json!({"a": 1}));
    }
}
