//! Email from the command line: `muster run` of a playbook whose `email_inbox` trigger is given
//! a raw message by hand and whose `send_email` uses the `[smtp]` server of the configuration
//! file, delivered to a real SMTP server on loopback.

use std::time::Duration;

use muster_testkit::smtp::{SinkConfig, SmtpSink};
use serde_json::Value;

const PLAYBOOK: &str = r#"
name: acknowledge
actions:
  - id: reported
    type: email_inbox
    options:
      host: imap.invalid
      credential: mailbox
  - id: thank
    type: send_email
    options:
      to: "{{ reported.email.from.address }}"
      subject: "Re: {{ reported.email.subject }}"
      in_reply_to: "{{ reported.message_id }}"
      text: We are looking at it.
links: [reported -> thank]
"#;

#[tokio::test]
async fn run_uses_the_configured_smtp_server_and_parses_a_message_given_by_hand() {
    let sink = SmtpSink::start(SinkConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("muster.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"SOC <soc@example.com>\"\n",
            sink.port()
        ),
    )
    .unwrap();
    let playbook = dir.path().join("acknowledge.yaml");
    std::fs::write(&playbook, PLAYBOOK).unwrap();
    let message = "From: Reporter <reporter@example.org>\r\nSubject: Suspicious invoice\r\n\
                   Message-ID: <r1@example.org>\r\n\r\nSee attached.\r\n";
    let event = serde_json::to_string(message).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args([
            "run",
            playbook.to_str().unwrap(),
            "--json",
            "--event",
            &event,
        ])
        .arg("--config")
        .arg(&config)
        .env("MUSTER_LOG", "warn")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["run"]["status"], "succeeded", "{doc}");
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].mail_from, "soc@example.com");
    assert_eq!(received[0].rcpt_to, ["reporter@example.org"]);
    let text = String::from_utf8_lossy(&received[0].data);
    assert!(text.contains("Subject: Re: Suspicious invoice"), "{text}");
    assert!(text.contains("In-Reply-To: <r1@example.org>"), "{text}");
}
