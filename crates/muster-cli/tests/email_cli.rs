//! Email from the command line: `muster run` of `examples/phish_mailbox.yaml` (the example of
//! docs/email.md) with a reported message given by hand to its `email_inbox` trigger, and its
//! `send_email` steps using the `[smtp]` server of the configuration file — a real SMTP server
//! on loopback that checks what arrived.

use std::time::Duration;

use muster_testkit::smtp::{SinkConfig, SmtpSink};
use serde_json::Value;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/phish_mailbox.yaml"
);

/// A user's report: a forwarded invoice lure with an executable attached.
const REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../muster-intel/tests/emails/09_report_with_attached_phish.eml"
);

#[tokio::test]
async fn the_phishing_mailbox_example_escalates_and_thanks_through_the_configured_server() {
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
    let report = std::fs::read_to_string(REPORT).unwrap();
    let event = serde_json::to_string(&report).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["run", EXAMPLE, "--json", "--event", &event])
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

    let received = sink.wait_for(2, Duration::from_secs(10)).await;
    let to = |who: &str| {
        received
            .iter()
            .find(|m| m.rcpt_to == [who])
            .unwrap_or_else(|| panic!("nothing was sent to {who}: {received:?}"))
    };
    let thanks = String::from_utf8_lossy(&to("m.rossi@contoso.com").data).into_owned();
    assert!(
        thanks.contains("Subject: Re: FW: Invoice 88213 overdue"),
        "{thanks}"
    );
    assert!(
        thanks.contains("In-Reply-To: <report-5521@contoso.com>"),
        "{thanks}"
    );

    let escalation = to("soc@example.com");
    assert_eq!(escalation.mail_from, "soc@example.com");
    let text = String::from_utf8_lossy(&escalation.data);
    assert!(
        text.contains("Flags: double_extension, executable"),
        "{text}"
    );
    assert!(
        text.contains("http://fedex-invoices.top/pay/88213"),
        "{text}"
    );
    assert!(text.contains("filename=\"reported.eml\""), "{text}");
    assert!(text.contains("Content-Type: message/rfc822"), "{text}");
    assert!(text.contains("filename=\"analysis.json\""), "{text}");
}
