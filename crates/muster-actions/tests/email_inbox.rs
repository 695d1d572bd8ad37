//! `email_inbox` against a real Dovecot started by each test on loopback (see
//! `muster_testkit::dovecot`): one run per message with the parsed email, messages marked seen
//! or moved after their run started, no second run for a message seen again (after a failed
//! mark, a restart), logins from credentials, and failing polls shown in the trigger's poll
//! status.
//!
//! Without a `dovecot` binary the tests print why they skip and pass, unless
//! `MUSTER_REQUIRE_SERVERS=1`.

mod common;

use std::time::Duration;

use futures::TryStreamExt;
use muster_engine::{Engine, PollStatus};
use muster_store::{RunFilter, Store};
use muster_testkit::TestEngine;
use muster_testkit::dovecot::{Dovecot, PASSWORD, USER};
use serde_json::{Value, json};
use tokio::net::TcpStream;

type Session = async_imap::Session<TcpStream>;

/// A test's own IMAP session to deliver and inspect messages (plain text, on loopback).
async fn mailbox(dovecot: &Dovecot) -> Session {
    let tcp = TcpStream::connect(("127.0.0.1", dovecot.port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().expect("a greeting");
    client
        .login(USER, PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .unwrap_or_else(|e| panic!("logging in: {e}\n{}", dovecot.log()))
}

fn message(n: usize, subject: &str) -> String {
    format!(
        "From: Reporter <reporter{n}@example.org>\r\n\
         To: phishing@example.com\r\n\
         Subject: {subject}\r\n\
         Message-ID: <report-{n}@example.org>\r\n\
         Date: Tue, 3 Mar 2026 10:0{n}:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Please look at https://login.example-bank.test/verify?id={n}\r\n"
    )
}

async fn deliver(session: &mut Session, folder: &str, messages: &[String]) {
    for text in messages {
        session
            .append(folder, None, None, text.as_bytes())
            .await
            .unwrap();
    }
}

async fn search(session: &mut Session, folder: &str, criteria: &str) -> Vec<u32> {
    session.select(folder).await.unwrap();
    let mut uids: Vec<u32> = session
        .uid_search(criteria)
        .await
        .unwrap()
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids
}

/// Clears `\Seen` on every message of INBOX: as if marking them had failed.
async fn mark_all_unseen(session: &mut Session) {
    session.select("INBOX").await.unwrap();
    let updates: Vec<_> = session
        .uid_store("1:*", "-FLAGS.SILENT (\\Seen)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    drop(updates);
}

fn playbook(dovecot: &Dovecot, connection: &str, extra: &str) -> String {
    format!(
        r#"
name: phishing
actions:
  - id: reported
    type: email_inbox
    options:
      host: 127.0.0.1
      username: {USER}
      password: "{PASSWORD}"
      interval: 1h
      timeout: 10s
{connection}
{extra}
  - id: done
    type: exit
    options: {{ output: {{ subject: "{{{{ reported.email.subject }}}}" }} }}
links: [reported -> done]
"#,
    )
    .replace("{{DOVECOT}}", &dovecot.port.to_string())
}

/// Waits until the trigger's poller finished `count` polls in all, and returns its status.
async fn polls(engine: &Engine, count: u64) -> PollStatus {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = engine.poll_status("phishing", "reported")
            && status.polls >= count
        {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the trigger did not finish {count} poll(s): {:?}",
            engine.poll_status("phishing", "reported")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The trigger events of every run of the playbook, oldest first.
async fn trigger_events(t: &TestEngine) -> Vec<Value> {
    let runs = t
        .store
        .runs(&RunFilter {
            playbook: Some("phishing".into()),
            limit: 100,
            ..RunFilter::default()
        })
        .await
        .unwrap();
    let mut events = Vec::new();
    for run in runs.items {
        let first = t.store.run_events(run.id).await.unwrap().remove(0);
        assert_eq!(first.action, "reported");
        events.push(first.output);
    }
    events.sort_by_key(|e| e["uid"].as_u64());
    events
}

fn subjects(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["email"]["subject"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn each_message_starts_one_run_even_when_seen_again_or_after_a_restart() {
    let Some(dovecot) = Dovecot::start("email_inbox: one run per message").await else {
        return;
    };
    let mut mail = mailbox(&dovecot).await;
    let subjects_sent = [
        "Invoice overdue",
        "Password expires today",
        "Shared document",
    ];
    let messages: Vec<String> = subjects_sent
        .iter()
        .enumerate()
        .map(|(n, s)| message(n + 1, s))
        .collect();
    deliver(&mut mail, "INBOX", &messages).await;
    // STARTTLS on the plain port, trusting the test CA.
    let ca = dovecot.certs.write_ca(dovecot.dir());
    let connection = format!(
        "      port: {{{{DOVECOT}}}}\n      security: starttls\n      ca_file: \"{}\"",
        ca.display()
    );
    let t = common::engine().await;
    t.install(&playbook(&dovecot, &connection, "")).await;

    let status = polls(&t.engine, 1).await;
    assert_eq!(status.last_error, None, "{}", dovecot.log());
    assert_eq!(status.runs_started, 3);
    let events = trigger_events(&t).await;
    assert_eq!(subjects(&events), subjects_sent);
    let first = &events[0];
    assert_eq!(first["message_id"], "report-1@example.org");
    assert_eq!(first["folder"], "INBOX");
    assert_eq!(first["truncated"], false);
    assert_eq!(first["email"]["from"]["address"], "reporter1@example.org");
    assert!(
        first["email"]["urls"].as_array().unwrap().iter().any(|u| u
            .as_str()
            .unwrap()
            .starts_with("https://login.example-bank.test/")),
        "{first}"
    );
    assert!(first.get("raw_base64").is_none());
    assert!(
        search(&mut mail, "INBOX", "UNSEEN").await.is_empty(),
        "processed messages are marked seen"
    );

    // Marking failed (the flags are gone again): the next poll starts nothing new and
    // marks them again.
    mark_all_unseen(&mut mail).await;
    assert!(t.engine.poll_now("phishing", "reported"));
    let status = polls(&t.engine, 2).await;
    assert_eq!(status.last_error, None);
    assert_eq!(status.runs_started, 3);
    assert_eq!(trigger_events(&t).await.len(), 3);
    assert!(search(&mut mail, "INBOX", "UNSEEN").await.is_empty());

    // A new process on the same store knows the messages too.
    mark_all_unseen(&mut mail).await;
    deliver(&mut mail, "INBOX", &[message(4, "One more")]).await;
    let t = t.restart().await;
    let status = polls(&t.engine, 1).await;
    assert_eq!(status.last_error, None);
    assert_eq!(status.runs_started, 1, "only the new message starts a run");
    let events = trigger_events(&t).await;
    assert_eq!(subjects(&events)[3..], ["One more"]);
    assert!(search(&mut mail, "INBOX", "UNSEEN").await.is_empty());
}

#[tokio::test]
async fn after_move_moves_processed_messages_over_implicit_tls_with_a_credential() {
    let Some(dovecot) = Dovecot::start("email_inbox: after move").await else {
        return;
    };
    let mut mail = mailbox(&dovecot).await;
    mail.create("Processed").await.unwrap();
    deliver(
        &mut mail,
        "INBOX",
        &[message(1, "First"), message(2, "Second")],
    )
    .await;
    let ca = dovecot.certs.write_ca(dovecot.dir());
    let connection = format!(
        "      port: {}\n      security: tls\n      ca_file: \"{}\"",
        dovecot.tls_port,
        ca.display()
    );
    let extra = "      after: move\n      move_to: Processed\n      include_raw: true";
    let t = common::engine().await;
    let login = json!({"type": "basic", "username": USER, "password": PASSWORD});
    t.set_credential("mailbox", login, &["127.0.0.1"]).await;
    let with_credential = playbook(&dovecot, &connection, extra).replace(
        &format!("      username: {USER}\n      password: \"{PASSWORD}\"\n"),
        "      credential: mailbox\n",
    );
    assert!(with_credential.contains("credential: mailbox"));
    t.install(&with_credential).await;
    let status = polls(&t.engine, 1).await;
    assert_eq!(status.last_error, None, "{}", dovecot.log());
    let events = trigger_events(&t).await;
    assert_eq!(subjects(&events), ["First", "Second"]);
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(events[0]["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(raw).unwrap(), message(1, "First"));
    assert!(search(&mut mail, "INBOX", "ALL").await.is_empty());
    assert_eq!(search(&mut mail, "Processed", "ALL").await.len(), 2);
}

#[tokio::test]
async fn a_failing_poll_is_shown_and_polling_follows_the_playbook() {
    let Some(dovecot) = Dovecot::start("email_inbox: failing poll").await else {
        return;
    };
    let mut mail = mailbox(&dovecot).await;
    deliver(
        &mut mail,
        "INBOX",
        &[message(1, "Started by the fixed version")],
    )
    .await;
    let connection = "      port: {{DOVECOT}}\n      security: none";
    let t = common::engine().await;
    let yaml = playbook(&dovecot, connection, "").replace(PASSWORD, "wrong password");
    t.install(&yaml).await;
    let status = polls(&t.engine, 1).await;
    assert_eq!(status.failures, 1);
    let error = status.last_error.unwrap();
    assert!(error.contains("refused the login"), "{error}");
    assert!(!error.contains("wrong password"), "{error}");
    assert!(status.next_poll_at.is_some());
    assert!(trigger_events(&t).await.is_empty());
    assert_eq!(search(&mut mail, "INBOX", "UNSEEN").await.len(), 1);

    t.engine.set_enabled("phishing", false).await.unwrap();
    assert_eq!(t.engine.poll_status("phishing", "reported"), None);
    assert!(!t.engine.poll_now("phishing", "reported"));
    t.engine.set_enabled("phishing", true).await.unwrap();
    assert!(t.engine.poll_status("phishing", "reported").is_some());

    // A new version with the right password replaces the poller: its first poll succeeds.
    t.install(&playbook(&dovecot, connection, "")).await;
    let status = polls(&t.engine, 1).await;
    assert_eq!(status.failures, 0, "{:?}", status.last_error);
    assert_eq!(status.runs_started, 1);
    assert_eq!(
        subjects(&trigger_events(&t).await),
        ["Started by the fixed version"]
    );

    t.engine.delete_playbook("phishing").await.unwrap();
    assert_eq!(t.engine.poll_status("phishing", "reported"), None);
}
