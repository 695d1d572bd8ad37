//! Building the MIME message `send_email` submits: addresses, a text and/or HTML body
//! (`multipart/alternative` when both), attachments (`multipart/mixed`), and a Message-ID
//! that is stable across retries of the same task.

use base64::Engine as _;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use muster_engine::ActionError;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// One attachment: a file name, a content type, and the content as text (`content`; JSON
/// values other than strings are attached as JSON) or as base64 (`content_base64`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentOption {
    pub filename: String,
    /// Default: `text/plain; charset=utf-8` for text, `application/json` for other JSON,
    /// `application/octet-stream` for base64.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The content: text, or any JSON value (attached as pretty-printed JSON).
    #[serde(default)]
    pub content: Option<Value>,
    /// The content as base64 (binary files, `raw_base64` of an `email_inbox` event).
    #[serde(default)]
    pub content_base64: Option<String>,
}

/// What the message says, with addresses still as written.
#[derive(Debug, Clone)]
pub struct Draft {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub attachments: Vec<AttachmentOption>,
}

/// Text or a list of texts, each of which may hold several comma-separated addresses.
pub fn address_list(name: &str, value: Option<Value>) -> Result<Vec<String>, ActionError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) => vec![text],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                other => Err(ActionError::permanent(format!(
                    "option `{name}`: expected addresses as text, got {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ActionError::permanent(format!(
                "option `{name}`: expected an address or a list of addresses, got {other}"
            )));
        }
    };
    Ok(items
        .into_iter()
        .filter(|text| !text.trim().is_empty())
        .collect())
}

fn mailboxes(name: &str, texts: &[String]) -> Result<Vec<Mailbox>, ActionError> {
    let mut all = Vec::new();
    for text in texts {
        let parsed: Mailboxes = text.parse().map_err(|e| {
            ActionError::permanent(format!("option `{name}`: `{text}` is not an address: {e}"))
        })?;
        all.extend(parsed);
    }
    Ok(all)
}

/// The Message-ID (without angle brackets) for a message sent by `task`: the same for every
/// attempt of the task, so a receiver can recognise a message submitted twice (a crash or a
/// lost reply after the server accepted it).
pub fn message_id(task: &str, from: &Mailbox) -> String {
    format!("{task}.muster@{}", from.email.domain())
}

/// Builds the message; returns it with its Message-ID.
pub fn build(draft: &Draft, task: &str) -> Result<(Message, String), ActionError> {
    let from = mailboxes("from", std::slice::from_ref(&draft.from))?;
    let [from] = <[Mailbox; 1]>::try_from(from).map_err(|_| {
        ActionError::permanent(format!(
            "option `from`: `{}` must be one address",
            draft.from
        ))
    })?;
    let to = mailboxes("to", &draft.to)?;
    let cc = mailboxes("cc", &draft.cc)?;
    let bcc = mailboxes("bcc", &draft.bcc)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(ActionError::permanent(
            "no recipient: set `to`, `cc` or `bcc`",
        ));
    }
    let id = message_id(task, &from);
    let mut builder = Message::builder()
        .from(from)
        .subject(draft.subject.clone())
        .message_id(Some(format!("<{id}>")));
    for mailbox in to {
        builder = builder.to(mailbox);
    }
    for mailbox in cc {
        builder = builder.cc(mailbox);
    }
    for mailbox in bcc {
        builder = builder.bcc(mailbox);
    }
    for mailbox in mailboxes("reply_to", &draft.reply_to)? {
        builder = builder.reply_to(mailbox);
    }
    if let Some(parent) = draft
        .in_reply_to
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let parent = if parent.starts_with('<') {
            parent.to_string()
        } else {
            format!("<{parent}>")
        };
        builder = builder.in_reply_to(parent.clone()).references(parent);
    }
    let body = body(draft)?;
    let message = if draft.attachments.is_empty() {
        match body {
            Body::Single(part) => builder.singlepart(part),
            Body::Multi(part) => builder.multipart(part),
        }
    } else {
        let mut mixed = match body {
            Body::Single(part) => MultiPart::mixed().singlepart(part),
            Body::Multi(part) => MultiPart::mixed().multipart(part),
        };
        for attachment in &draft.attachments {
            mixed = mixed.singlepart(attachment_part(attachment)?);
        }
        builder.multipart(mixed)
    }
    .map_err(|e| ActionError::permanent(format!("cannot build the message: {e}")))?;
    Ok((message, id))
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

fn body(draft: &Draft) -> Result<Body, ActionError> {
    Ok(match (&draft.text, &draft.html) {
        (Some(text), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        )),
        (Some(text), None) => Body::Single(SinglePart::plain(text.clone())),
        (None, Some(html)) => Body::Single(SinglePart::html(html.clone())),
        (None, None) => {
            return Err(ActionError::permanent("set `text`, `html` or both"));
        }
    })
}

fn attachment_part(option: &AttachmentOption) -> Result<SinglePart, ActionError> {
    let name = &option.filename;
    let (bytes, default_type) = match (&option.content, &option.content_base64) {
        (Some(Value::String(text)), None) => {
            (text.as_bytes().to_vec(), "text/plain; charset=utf-8")
        }
        (Some(value), None) => (
            serde_json::to_vec_pretty(value)
                .map_err(|e| ActionError::permanent(format!("attachment `{name}`: {e}")))?,
            "application/json",
        ),
        (None, Some(encoded)) => {
            let compact: String = encoded
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| {
                    ActionError::permanent(format!(
                        "attachment `{name}`: `content_base64` is not valid base64: {e}"
                    ))
                })?;
            (bytes, "application/octet-stream")
        }
        _ => {
            return Err(ActionError::permanent(format!(
                "attachment `{name}`: set exactly one of `content` and `content_base64`"
            )));
        }
    };
    let text = option.content_type.as_deref().unwrap_or(default_type);
    let content_type = ContentType::parse(text).map_err(|e| {
        ActionError::permanent(format!(
            "attachment `{name}`: `{text}` is not a content type: {e}"
        ))
    })?;
    Ok(Attachment::new(name.clone()).body(bytes, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft() -> Draft {
        Draft {
            from: "Muster <soc@example.com>".into(),
            to: vec!["a@example.com, b@example.com".into()],
            cc: vec![],
            bcc: vec!["hidden@example.com".into()],
            reply_to: vec![],
            subject: "Report".into(),
            text: Some("hello".into()),
            html: None,
            in_reply_to: Some("orig@example.net".into()),
            attachments: vec![],
        }
    }

    #[test]
    fn the_message_id_follows_the_task_and_bcc_stays_in_the_envelope() {
        let (message, id) = build(&draft(), "0190-task").unwrap();
        assert_eq!(id, "0190-task.muster@example.com");
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(
            text.contains("Message-ID: <0190-task.muster@example.com>"),
            "{text}"
        );
        assert!(text.contains("In-Reply-To: <orig@example.net>"), "{text}");
        assert!(!text.contains("hidden@example.com"), "{text}");
        let recipients: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            recipients,
            ["a@example.com", "b@example.com", "hidden@example.com"]
        );
    }

    #[test]
    fn bad_input_is_reported_by_option() {
        let mut bad = draft();
        bad.to = vec!["not an address".into()];
        let err = build(&bad, "t").unwrap_err();
        assert!(err.message.contains("option `to`"), "{}", err.message);
        let mut none = draft();
        none.text = None;
        assert!(build(&none, "t").unwrap_err().message.contains("`text`"));
        let mut attachment = draft();
        attachment.attachments = vec![AttachmentOption {
            filename: "x.bin".into(),
            content_type: None,
            content: Some(json!("a")),
            content_base64: Some("YQ==".into()),
        }];
        assert!(
            build(&attachment, "t")
                .unwrap_err()
                .message
                .contains("exactly one")
        );
        assert_eq!(
            address_list("to", Some(json!(["a@x.org", ""]))).unwrap(),
            ["a@x.org"]
        );
        assert!(address_list("to", Some(json!([1]))).is_err());
    }
}
