//! `send_email`: submits a message over SMTP (STARTTLS, TLS or plain text, with AUTH), to the
//! server in the `smtp` option or the operator's `[smtp]` default.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::basic_login;
use super::message::{AttachmentOption, Draft, address_list, build};
use super::smtp::{SmtpDefaults, SmtpOptions};

/// Options of `send_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SendEmailOptions {
    /// The sender, `a@example.com` or `Name <a@example.com>` (default: `[smtp] from`).
    #[serde(default)]
    from: Option<String>,
    /// Recipients: an address, a comma-separated list, or a list of addresses.
    #[serde(default)]
    to: Option<Value>,
    #[serde(default)]
    cc: Option<Value>,
    /// Recipients in the envelope only; no header names them.
    #[serde(default)]
    bcc: Option<Value>,
    #[serde(default)]
    reply_to: Option<Value>,
    subject: String,
    /// The plain-text body.
    #[serde(default)]
    text: Option<String>,
    /// The HTML body; with `text` as well, the message is `multipart/alternative`.
    #[serde(default)]
    html: Option<String>,
    /// The Message-ID this message answers (sets `In-Reply-To` and `References`), e.g. the
    /// `message_id` of an `email_inbox` event.
    #[serde(default)]
    in_reply_to: Option<String>,
    /// Files to attach: `{filename, content_type, content}` or `{filename, content_type,
    /// content_base64}`.
    #[serde(default)]
    attachments: Option<Vec<AttachmentOption>>,
    /// The server (default: `[smtp]` in the configuration).
    #[serde(default)]
    smtp: Option<SmtpOptions>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("send_email"),
    summary: Cow::Borrowed("Send an email over SMTP."),
    description: Cow::Borrowed(
        "Builds a message from `from`, `to`, `cc`, `bcc`, `reply_to`, `subject`, \
         `text` and/or `html` (both: `multipart/alternative`) and `attachments`, and \
         submits it to the `smtp` server, or to the operator's `[smtp]` server when \
         the option is absent. Emits `{message_id, accepted, response}`: the \
         Message-ID (without angle brackets), the envelope recipients the server \
         accepted (`to`, `cc` and `bcc`) and its final reply.\n\n\
         `smtp.security` is `starttls` (default, port 587; STARTTLS must succeed), \
         `tls` (port 465) or `none` (port 25, plain text); `username` and `password` \
         authenticate with AUTH PLAIN or LOGIN; `credential: NAME` uses a `basic` credential \
         instead (it must allow `host`), and credential references in `username` and \
         `password` are revealed only for `host`. Certificates are verified against the \
         system's roots plus `ca_file`; `tls_verify: false` turns verification off.\n\n\
         Errors: refused connections, timeouts and 4xx replies are `transient` \
         (retried with the action's `retry`); 5xx replies (a rejected recipient or \
         login), TLS failures and bad options are `permanent`. Any recipient refused \
         fails the whole message. Passwords never appear in errors or output.\n\n\
         The Message-ID is derived from the task id (`<task>.muster@<from domain>`), \
         so every attempt of the same step sends the same Message-ID: when a retry \
         follows a crash or a lost reply after the server had accepted the message, \
         receivers can recognise the copy.",
    ),
    trigger: false,
    ports: &[],
    options: crate::options::schema::<SendEmailOptions>(),
    example: Cow::Borrowed(
        "- id: notify\n  type: send_email\n  options:\n    from: Muster <soc@example.com>\n    to: [\"{{ reported.email.from.address }}\"]\n    subject: \"Re: {{ reported.email.subject }}\"\n    in_reply_to: \"{{ reported.message_id }}\"\n    text: Thank you, our team is looking at the message you reported.\n    attachments:\n      - filename: analysis.json\n        content: \"{{ reported.email.flags }}\"\n    smtp:\n      host: smtp.example.com\n      credential: smtp_relay\n  retry: { attempts: 3 }\n",
    ),
    side_effects: true,
    inline: false,
});

pub struct SendEmail;

#[async_trait]
impl Action for SendEmail {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        let mut problems = Vec::new();
        if !def.options.contains_key("text") && !def.options.contains_key("html") {
            problems.push(OptionProblem {
                path: String::new(),
                message: "a message needs `text`, `html` or both".into(),
                hint: None,
            });
        }
        if !["to", "cc", "bcc"]
            .iter()
            .any(|k| def.options.contains_key(*k))
        {
            problems.push(OptionProblem {
                path: String::new(),
                message: "a message needs recipients: set `to`, `cc` or `bcc`".into(),
                hint: None,
            });
        }
        problems
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        let options: SendEmailOptions =
            crate::options::parse(Value::Object(ctx.options_except(&[])?))?;
        let defaults = ctx.services.get::<SmtpDefaults>();
        let mut server = match options.smtp {
            Some(smtp) => smtp.into_server()?,
            None => defaults.map(|d| d.server.clone()).ok_or_else(|| {
                ActionError::permanent(
                    "no SMTP server: set the `smtp` option or configure `[smtp]` in muster.toml",
                )
            })?,
        };
        let host = server.host.clone();
        match &server.credential {
            Some(name) => {
                let (username, password) = basic_login(ctx.credential(name, &host).await?)?;
                server.username = Some(username);
                server.password = Some(password);
            }
            None => {
                if let Some(username) = &server.username {
                    server.username = Some(ctx.reveal(username, &host).await?);
                }
                if let Some(password) = &server.password {
                    server.password = Some(ctx.reveal(password, &host).await?);
                }
            }
        }
        let from = options
            .from
            .or_else(|| defaults.and_then(|d| d.from.clone()))
            .ok_or_else(|| {
                ActionError::permanent("no sender: set `from` or `[smtp] from` in muster.toml")
            })?;
        let draft = Draft {
            from,
            to: address_list("to", options.to)?,
            cc: address_list("cc", options.cc)?,
            bcc: address_list("bcc", options.bcc)?,
            reply_to: address_list("reply_to", options.reply_to)?,
            subject: options.subject,
            text: options.text,
            html: options.html,
            in_reply_to: options.in_reply_to,
            attachments: options.attachments.unwrap_or_default(),
        };
        let (message, message_id) = build(&draft, &ctx.task.id.to_string())?;
        let envelope = message.envelope().clone();
        let response = server.send(&envelope, &message.formatted()).await?;
        let accepted: Vec<String> = envelope.to().iter().map(ToString::to_string).collect();
        Ok(Outcome::emit(json!({
            "message_id": message_id,
            "accepted": accepted,
            "response": response,
        })))
    }
}
