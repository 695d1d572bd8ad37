//! `send_email` against a real SMTP server on loopback (the testkit's sink): plain text,
//! STARTTLS and implicit TLS, AUTH PLAIN and LOGIN, multipart bodies and attachments as they
//! arrived, envelope recipients, error classes, the operator's default server, logins from
//! credentials, and a Message-ID that stays the same when a step is retried.

mod common;

use std::sync::Arc;
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use muster_actions::mail::Security;
use muster_actions::mail::smtp::{SmtpDefaults, SmtpServer};
use muster_actions::mail::tls::TlsCheck;
use muster_store::RunStatus;
use muster_testkit::certs::TestCerts;
use muster_testkit::outputs_of;
use muster_testkit::smtp::{SinkConfig, SinkTls, SmtpSink};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// A playbook that sends one message with `smtp` (YAML flow mapping) and `extra` options.
fn playbook(smtp: &str, extra: &str) -> String {
    playbook_retrying(smtp, extra, "")
}

/// The same with a `retry` policy.
fn playbook_retrying(smtp: &str, extra: &str, retry: &str) -> String {
    format!(
        r#"
name: mail
actions:
  - id: start
    type: manual
  - id: notify
    type: send_email
    options:
      from: Muster SOC <soc@example.com>
      to: "{{{{ start.to }}}}"
      subject: "Phish report {{{{ start.case }}}}"
      text: "Case {{{{ start.case }}}} is closed."
{extra}
{smtp}
{retry}
  - id: done
    type: exit
    options: {{ output: "{{{{ notify }}}}" }}
links: [start -> notify, notify -> done]
"#
    )
}

fn smtp(port: u16, security: &str, extra: &str) -> String {
    format!(
        "      smtp: {{ host: 127.0.0.1, port: {port}, security: {security}, timeout: 5s{extra} }}"
    )
}

fn parse(data: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(data)
        .expect("the sink received a parsable message")
}

#[tokio::test]
async fn plain_text_with_auth_plain_delivers_multipart_bodies_attachments_and_every_recipient() {
    let sink = SmtpSink::start(SinkConfig {
        auth: Some(("soc".into(), "s3cret pass".into())),
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    let extra = r#"      cc: [Analyst <analyst@example.com>]
      bcc: "ciso@example.com, audit@example.com"
      reply_to: soc-replies@example.com
      html: "<p>Case <b>{{ start.case }}</b> is closed.</p>"
      attachments:
        - filename: notes.txt
          content: "checked by {{ start.who }}"
        - filename: evidence.json
          content: "{{ start.evidence }}"
        - filename: blob.bin
          content_type: application/octet-stream
          content_base64: AAEC/w=="#;
    let smtp = smtp(
        sink.port(),
        "none",
        ", username: soc, password: \"s3cret pass\"",
    );
    t.install(&playbook(&smtp, extra)).await;
    let (run, events) = t
        .run(
            "mail",
            json!({
                "to": ["Reporter <reporter@example.org>"],
                "case": 42,
                "who": "alice",
                "evidence": {"verdict": "phish", "urls": ["http://bad.example"]},
            }),
        )
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let output = outputs_of(&events, "notify")[0];
    let received = sink.wait_for(1, WAIT).await;
    let message = &received[0];
    assert_eq!(message.auth, Some(("PLAIN".into(), "soc".into())));
    assert!(!message.tls);
    assert_eq!(message.mail_from, "soc@example.com");
    assert_eq!(
        message.rcpt_to,
        [
            "reporter@example.org",
            "analyst@example.com",
            "ciso@example.com",
            "audit@example.com"
        ]
    );
    assert_eq!(output["accepted"], json!(message.rcpt_to));

    let parsed = parse(&message.data);
    assert_eq!(parsed.subject(), Some("Phish report 42"));
    let id = output["message_id"].as_str().unwrap();
    assert_eq!(parsed.message_id(), Some(id));
    assert!(id.ends_with(".muster@example.com"), "{id}");
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    assert_eq!(from.name(), Some("Muster SOC"));
    assert_eq!(from.address(), Some("soc@example.com"));
    let cc = parsed.cc().and_then(|a| a.first()).unwrap();
    assert_eq!(cc.address(), Some("analyst@example.com"));
    let reply_to = parsed.reply_to().and_then(|a| a.first()).unwrap();
    assert_eq!(reply_to.address(), Some("soc-replies@example.com"));
    assert!(parsed.bcc().is_none(), "Bcc must not be a header");
    let raw = String::from_utf8_lossy(&message.data);
    assert!(!raw.contains("ciso@example.com"), "{raw}");
    assert!(raw.contains("multipart/mixed"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");

    assert_eq!(
        parsed.body_text(0).as_deref().map(str::trim),
        Some("Case 42 is closed.")
    );
    assert_eq!(
        parsed.body_html(0).as_deref().map(str::trim),
        Some("<p>Case <b>42</b> is closed.</p>")
    );
    let attachments: Vec<(String, String, Vec<u8>)> = parsed
        .attachments()
        .map(|part| {
            let content_type = part.content_type().unwrap();
            let full = format!(
                "{}/{}",
                content_type.ctype(),
                content_type.subtype().unwrap_or_default()
            );
            (
                part.attachment_name().unwrap_or_default().to_string(),
                full,
                part.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(attachments.len(), 3, "{attachments:?}");
    assert_eq!(attachments[0].0, "notes.txt");
    assert_eq!(attachments[0].1, "text/plain");
    assert_eq!(attachments[0].2, b"checked by alice");
    assert_eq!(attachments[1].0, "evidence.json");
    assert_eq!(attachments[1].1, "application/json");
    let evidence: Value = serde_json::from_slice(&attachments[1].2).unwrap();
    assert_eq!(
        evidence,
        json!({"verdict": "phish", "urls": ["http://bad.example"]})
    );
    assert_eq!(attachments[2].0, "blob.bin");
    assert_eq!(attachments[2].1, "application/octet-stream");
    assert_eq!(attachments[2].2, [0x00, 0x01, 0x02, 0xff]);
}

#[tokio::test]
async fn starttls_with_a_ca_file_and_auth_login() {
    let sink = SmtpSink::start(SinkConfig {
        tls: SinkTls::StartTls,
        auth: Some(("soc".into(), "pw".into())),
        mechanisms: vec!["LOGIN"],
        ..SinkConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca = sink.certs.write_ca(dir.path());
    let t = common::engine().await;
    let smtp = smtp(
        sink.port(),
        "starttls",
        &format!(
            ", username: soc, password: pw, ca_file: \"{}\"",
            ca.display()
        ),
    );
    t.install(&playbook(&smtp, "")).await;
    let (run, _) = t
        .run("mail", json!({"to": "reporter@example.org", "case": 7}))
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let message = &sink.wait_for(1, WAIT).await[0];
    assert!(message.tls, "the message went over TLS");
    assert_eq!(message.auth, Some(("LOGIN".into(), "soc".into())));
    assert_eq!(parse(&message.data).subject(), Some("Phish report 7"));
}

#[tokio::test]
async fn implicit_tls_verifies_certificates_unless_told_not_to() {
    let sink = SmtpSink::start(SinkConfig {
        tls: SinkTls::Implicit,
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    // The sink's certificate comes from a test CA nobody trusts: verification refuses it.
    t.install(&playbook(&smtp(sink.port(), "tls", ""), ""))
        .await;
    let (run, _) = t
        .run("mail", json!({"to": "reporter@example.org", "case": 1}))
        .await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_ref().unwrap()["class"], "permanent");
    assert!(sink.messages().is_empty());

    t.install(&playbook(
        &smtp(sink.port(), "tls", ", tls_verify: false"),
        "",
    ))
    .await;
    let (run, _) = t
        .run("mail", json!({"to": "reporter@example.org", "case": 2}))
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let message = &sink.wait_for(1, WAIT).await[0];
    assert!(message.tls);
    assert_eq!(parse(&message.data).subject(), Some("Phish report 2"));
}

#[tokio::test]
async fn a_5xx_rejection_is_permanent_and_not_retried() {
    let sink = SmtpSink::start(SinkConfig {
        reject: vec![(
            "nobody@example.org".into(),
            "550 5.1.1 no such user here".into(),
        )],
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    t.install(&playbook_retrying(
        &smtp(sink.port(), "none", ""),
        "",
        "    retry: { attempts: 3, backoff: 10ms }",
    ))
    .await;
    let (run, _) = t
        .run(
            "mail",
            json!({"to": ["ok@example.org", "nobody@example.org"], "case": 3}),
        )
        .await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap();
    assert_eq!(error["class"], "permanent");
    assert_eq!(error["attempt"], 1, "a permanent error is not retried");
    let reason = run.reason.unwrap();
    assert!(reason.contains("no such user here"), "{reason}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_refused_login_is_permanent_and_never_shows_the_password() {
    let sink = SmtpSink::start(SinkConfig {
        auth: Some(("soc".into(), "right".into())),
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    t.install(&playbook_retrying(
        &smtp(
            sink.port(),
            "none",
            ", username: soc, password: \"wrong-Pa55word\"",
        ),
        "",
        "    retry: { attempts: 3, backoff: 10ms }",
    ))
    .await;
    let (run, events) = t
        .run("mail", json!({"to": "a@example.org", "case": 4}))
        .await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.clone().unwrap();
    assert_eq!(error["class"], "permanent");
    assert_eq!(
        sink.failed_auth(),
        [("PLAIN".to_string(), "soc".to_string())]
    );
    let everything = format!("{run:?} {events:?}");
    assert!(!everything.contains("wrong-Pa55word"), "{everything}");
}

#[tokio::test]
async fn a_refused_connection_is_transient_and_retried() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let t = common::engine().await;
    t.install(&playbook_retrying(
        &smtp(port, "none", ""),
        "",
        "    retry: { attempts: 2, backoff: 10ms }",
    ))
    .await;
    let (run, _) = t
        .run("mail", json!({"to": "a@example.org", "case": 5}))
        .await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.unwrap();
    assert_eq!(error["class"], "transient");
    assert_eq!(error["attempt"], 2, "a transient error is retried");
}

#[tokio::test]
async fn a_retry_after_a_4xx_sends_the_same_message_id() {
    let sink = SmtpSink::start(SinkConfig {
        data_replies: vec!["451 4.3.0 try again later".into()],
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    t.install(&playbook_retrying(
        &smtp(sink.port(), "none", ""),
        "",
        "    retry: { attempts: 3, backoff: 10ms }",
    ))
    .await;
    let (run, events) = t
        .run("mail", json!({"to": "a@example.org", "case": 6}))
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let received = sink.wait_for(2, WAIT).await;
    assert!(received[0].reply.starts_with("451"));
    assert!(received[1].reply.starts_with("250"));
    let first = parse(&received[0].data).message_id().map(str::to_string);
    let second = parse(&received[1].data).message_id().map(str::to_string);
    assert_eq!(first, second);
    assert_eq!(
        first.as_deref(),
        outputs_of(&events, "notify")[0]["message_id"].as_str()
    );
}

#[tokio::test]
async fn the_operators_default_server_and_sender_are_used_without_an_smtp_option() {
    let certs = Arc::new(TestCerts::new());
    let sink = SmtpSink::start(SinkConfig {
        tls: SinkTls::StartTls,
        certs: Some(certs.clone()),
        auth: Some(("relay".into(), "relay-pw".into())),
        ..SinkConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ca = certs.write_ca(dir.path());
    let mut services = muster_actions::services(common::loopback_http()).unwrap();
    services.insert(SmtpDefaults {
        server: SmtpServer {
            host: "127.0.0.1".into(),
            port: Some(sink.port()),
            security: Security::Starttls,
            username: Some("relay".into()),
            password: Some("relay-pw".into()),
            credential: None,
            timeout: Duration::from_secs(5),
            tls: TlsCheck::new(None, Some(ca.display().to_string())),
        },
        from: Some("Muster <muster@example.net>".into()),
    });
    let t = muster_testkit::TestEngine::start(muster_actions::registry(), services).await;
    t.install(
        r#"
name: default-server
actions:
  - id: start
    type: manual
  - id: notify
    type: send_email
    options: { to: soc@example.net, subject: Hello, text: Hi }
links: [start -> notify]
"#,
    )
    .await;
    let (run, _) = t.run("default-server", json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let message = &sink.wait_for(1, WAIT).await[0];
    assert!(message.tls);
    assert_eq!(message.auth, Some(("PLAIN".into(), "relay".into())));
    assert_eq!(message.mail_from, "muster@example.net");
    assert_eq!(message.rcpt_to, ["soc@example.net"]);
}

#[tokio::test]
async fn without_a_server_the_action_says_how_to_configure_one() {
    let t = common::engine().await;
    t.install(
        r#"
name: nowhere
actions:
  - id: start
    type: manual
  - id: notify
    type: send_email
    options: { from: a@example.com, to: b@example.com, subject: Hello, text: Hi }
links: [start -> notify]
"#,
    )
    .await;
    let (run, _) = t.run("nowhere", json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.reason.unwrap().contains("[smtp]"));
}

#[tokio::test]
async fn credentials_log_in_only_toward_their_allowed_hosts() {
    let sink = SmtpSink::start(SinkConfig {
        auth: Some(("soc".into(), "vault-Secret-9".into())),
        ..SinkConfig::default()
    })
    .await;
    let t = common::engine().await;
    let basic = json!({"type": "basic", "username": "soc", "password": "vault-Secret-9"});
    t.set_credential("relay", basic.clone(), &["127.0.0.1"])
        .await;
    t.set_credential("elsewhere", basic, &["smtp.example.com"])
        .await;

    t.install(&playbook(
        &smtp(sink.port(), "none", ", credential: relay"),
        "",
    ))
    .await;
    let (run, events) = t
        .run("mail", json!({"to": "a@example.org", "case": 8}))
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.reason);
    let reference = ", username: soc, password: \"{{ credentials.relay.password }}\"";
    t.install(&playbook(&smtp(sink.port(), "none", reference), ""))
        .await;
    let (again, more) = t
        .run("mail", json!({"to": "a@example.org", "case": 9}))
        .await;
    assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.reason);
    let received = sink.wait_for(2, WAIT).await;
    assert!(
        received
            .iter()
            .all(|m| m.auth == Some(("PLAIN".into(), "soc".into())))
    );

    t.install(&playbook(
        &smtp(sink.port(), "none", ", credential: elsewhere"),
        "",
    ))
    .await;
    let (refused, _) = t
        .run("mail", json!({"to": "a@example.org", "case": 10}))
        .await;
    assert_eq!(refused.status, RunStatus::Failed);
    let reason = refused.reason.clone().unwrap();
    assert!(
        reason.contains("may not be sent to `127.0.0.1`"),
        "{reason}"
    );
    assert_eq!(sink.messages().len(), 2, "nothing was sent with it");
    assert!(sink.failed_auth().is_empty());
    let everything = format!("{run:?} {events:?} {again:?} {more:?} {refused:?}");
    assert!(!everything.contains("vault-Secret-9"), "{everything}");
}
