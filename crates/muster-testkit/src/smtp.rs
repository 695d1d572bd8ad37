//! An SMTP server on loopback that accepts mail and keeps it for the test to inspect: a real
//! SMTP dialogue (RFC 5321) with STARTTLS or implicit TLS, AUTH PLAIN and LOGIN, and
//! recipients it can be told to reject.
//!
//! In STARTTLS mode it behaves like a submission server: AUTH is only offered after STARTTLS,
//! and mail is refused until the session is encrypted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use crate::certs::TestCerts;

/// How the sink protects sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkTls {
    /// Plain text only.
    None,
    /// Plain text, upgraded by STARTTLS (required before AUTH and MAIL).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// What the sink does.
pub struct SinkConfig {
    pub tls: SinkTls,
    /// The certificate TLS modes present (a fresh one when `None`).
    pub certs: Option<Arc<TestCerts>>,
    /// Username and password AUTH must present; `None` offers no AUTH.
    pub auth: Option<(String, String)>,
    /// The AUTH mechanisms offered (default: PLAIN and LOGIN).
    pub mechanisms: Vec<&'static str>,
    /// Recipients answered with this reply instead of 250 (`("x@example.com", "550 5.1.1 no")`).
    pub reject: Vec<(String, String)>,
    /// Replies to the first messages' data instead of 250, in order (`"451 4.3.0 try later"`);
    /// such messages are recorded all the same, with the reply they got.
    pub data_replies: Vec<String>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            tls: SinkTls::None,
            certs: None,
            auth: None,
            mechanisms: vec!["PLAIN", "LOGIN"],
            reject: Vec::new(),
            data_replies: Vec::new(),
        }
    }
}

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The name given in EHLO/HELO.
    pub helo: String,
    /// Whether the session was encrypted when the message was sent.
    pub tls: bool,
    /// The AUTH mechanism and username that authenticated the session.
    pub auth: Option<(String, String)>,
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`) that were accepted.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    /// The reply the sink gave to the data (`250 …` unless told otherwise).
    pub reply: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Received>>,
    /// Failed AUTH attempts (mechanism, username).
    failed_auth: Mutex<Vec<(String, String)>>,
    arrived: Notify,
}

/// A running sink; it stops when dropped.
pub struct SmtpSink {
    pub addr: SocketAddr,
    pub certs: Arc<TestCerts>,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Starts a sink on a free loopback port.
    pub async fn start(config: SinkConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener.local_addr().expect("the sink's address");
        let certs = config
            .certs
            .clone()
            .unwrap_or_else(|| Arc::new(TestCerts::new()));
        let acceptor = TlsAcceptor::from(certs.server_config());
        let shared = Arc::new(Shared::default());
        let config = Arc::new(config);
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let session = Session {
                        config: config.clone(),
                        shared: shared.clone(),
                        acceptor: acceptor.clone(),
                    };
                    tokio::spawn(session.serve(socket));
                }
            }
        });
        Self {
            addr,
            certs,
            shared,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .messages
            .lock()
            .expect("the sink's lock")
            .clone()
    }

    /// AUTH attempts that failed, as (mechanism, username).
    pub fn failed_auth(&self) -> Vec<(String, String)> {
        self.shared
            .failed_auth
            .lock()
            .expect("the sink's lock")
            .clone()
    }

    /// Waits until at least `count` messages arrived (panics after `timeout`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "the SMTP sink received {} message(s), not {count}, within {timeout:?}",
                    messages.len()
                );
            }
        }
    }
}

/// The sink's side of one connection.
struct Session {
    config: Arc<SinkConfig>,
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
}

/// The state of one SMTP transaction.
#[derive(Default)]
struct Transaction {
    helo: String,
    auth: Option<(String, String)>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// What to do after a command.
enum Next {
    Continue,
    StartTls,
    Quit,
}

impl Session {
    async fn serve(self, socket: TcpStream) {
        if self.config.tls == SinkTls::Implicit {
            let Ok(tls) = self.acceptor.accept(socket).await else {
                return;
            };
            let _ = self.dialogue(&mut Lines::new(tls), true).await;
            return;
        }
        let mut plain = Lines::new(socket);
        if let Ok(Next::StartTls) = self.dialogue(&mut plain, false).await {
            let Ok(tls) = self.acceptor.accept(plain.stream).await else {
                return;
            };
            let _ = self.dialogue(&mut Lines::new(tls), true).await;
        }
    }

    /// Runs the dialogue until QUIT, a dropped connection, or (plain text) STARTTLS.
    async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Lines<S>,
        encrypted: bool,
    ) -> std::io::Result<Next> {
        if !encrypted || self.config.tls == SinkTls::Implicit {
            conn.send("220 sink.test ESMTP ready").await?;
        }
        let mut tx = Transaction::default();
        loop {
            let Some(line) = conn.line().await? else {
                return Ok(Next::Quit);
            };
            match self.command(conn, &mut tx, &line, encrypted).await? {
                Next::Continue => {}
                other => return Ok(other),
            }
        }
    }

    async fn command<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Lines<S>,
        tx: &mut Transaction,
        line: &str,
        encrypted: bool,
    ) -> std::io::Result<Next> {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let needs_tls = self.config.tls == SinkTls::StartTls && !encrypted;
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                tx.helo = rest.trim().to_string();
                let mut lines = vec!["sink.test".to_string(), "8BITMIME".into()];
                lines.push("SMTPUTF8".into());
                if needs_tls {
                    lines.push("STARTTLS".into());
                } else if self.config.auth.is_some() {
                    lines.push(format!("AUTH {}", self.config.mechanisms.join(" ")));
                }
                let last = lines.len() - 1;
                for (i, text) in lines.iter().enumerate() {
                    let sep = if i == last { ' ' } else { '-' };
                    conn.send(&format!("250{sep}{text}")).await?;
                }
            }
            "HELO" => {
                tx.helo = rest.trim().to_string();
                conn.send("250 sink.test").await?;
            }
            "STARTTLS" if needs_tls => {
                conn.send("220 2.0.0 ready to start TLS").await?;
                return Ok(Next::StartTls);
            }
            "AUTH" if !needs_tls && self.config.auth.is_some() => {
                self.auth(conn, tx, rest).await?;
            }
            "MAIL" => {
                if needs_tls {
                    conn.send("530 5.7.0 must issue a STARTTLS command first")
                        .await?;
                } else if self.config.auth.is_some() && tx.auth.is_none() {
                    conn.send("530 5.7.0 authentication required").await?;
                } else {
                    tx.mail_from = Some(address(rest));
                    tx.rcpt_to.clear();
                    conn.send("250 2.1.0 ok").await?;
                }
            }
            "RCPT" => {
                let to = address(rest);
                if tx.mail_from.is_none() {
                    conn.send("503 5.5.1 MAIL first").await?;
                } else if let Some((_, reply)) =
                    self.config.reject.iter().find(|(who, _)| *who == to)
                {
                    conn.send(reply).await?;
                } else {
                    tx.rcpt_to.push(to);
                    conn.send("250 2.1.5 ok").await?;
                }
            }
            "DATA" => {
                if tx.mail_from.is_none() || tx.rcpt_to.is_empty() {
                    conn.send("503 5.5.1 no valid recipients").await?;
                } else {
                    conn.send("354 end data with <CR><LF>.<CR><LF>").await?;
                    let data = conn.data().await?;
                    let reply = {
                        let mut messages = self.shared.messages.lock().expect("the sink's lock");
                        let reply = self
                            .config
                            .data_replies
                            .get(messages.len())
                            .cloned()
                            .unwrap_or_else(|| {
                                format!("250 2.0.0 ok: queued as {}", messages.len() + 1)
                            });
                        messages.push(Received {
                            helo: tx.helo.clone(),
                            tls: encrypted,
                            auth: tx.auth.clone(),
                            mail_from: tx.mail_from.take().unwrap_or_default(),
                            rcpt_to: std::mem::take(&mut tx.rcpt_to),
                            data,
                            reply: reply.clone(),
                        });
                        reply
                    };
                    conn.send(&reply).await?;
                    self.shared.arrived.notify_waiters();
                }
            }
            "RSET" => {
                tx.mail_from = None;
                tx.rcpt_to.clear();
                conn.send("250 2.0.0 ok").await?;
            }
            "NOOP" => conn.send("250 2.0.0 ok").await?,
            "QUIT" => {
                conn.send("221 2.0.0 bye").await?;
                return Ok(Next::Quit);
            }
            _ => conn.send("502 5.5.2 command not recognised").await?,
        }
        Ok(Next::Continue)
    }

    async fn auth<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Lines<S>,
        tx: &mut Transaction,
        rest: &str,
    ) -> std::io::Result<()> {
        let (mechanism, initial) = rest.split_once(' ').unwrap_or((rest, ""));
        let mechanism = mechanism.to_ascii_uppercase();
        if !self.config.mechanisms.contains(&mechanism.as_str()) {
            return conn.send("504 5.5.4 mechanism not supported").await;
        }
        let (user, password) = match mechanism.as_str() {
            "PLAIN" => {
                let encoded = if initial.is_empty() {
                    conn.send("334 ").await?;
                    conn.line().await?.unwrap_or_default()
                } else {
                    initial.to_string()
                };
                let decoded = decode(&encoded);
                let mut fields = decoded.split('\0').skip(1);
                (
                    fields.next().unwrap_or_default().to_string(),
                    fields.next().unwrap_or_default().to_string(),
                )
            }
            _ => {
                conn.send("334 VXNlcm5hbWU6").await?;
                let user = decode(&conn.line().await?.unwrap_or_default());
                conn.send("334 UGFzc3dvcmQ6").await?;
                let password = decode(&conn.line().await?.unwrap_or_default());
                (user, password)
            }
        };
        let expected = self.config.auth.as_ref();
        if expected.is_some_and(|(u, p)| *u == user && *p == password) {
            tx.auth = Some((mechanism, user));
            conn.send("235 2.7.0 authentication successful").await
        } else {
            self.shared
                .failed_auth
                .lock()
                .expect("the sink's lock")
                .push((mechanism, user));
            conn.send("535 5.7.8 authentication credentials invalid")
                .await
        }
    }
}

fn decode(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The address in `FROM:<a@b> SIZE=1` or `TO:<a@b>`.
fn address(rest: &str) -> String {
    let after = rest.split_once(':').map_or(rest, |(_, a)| a).trim();
    match (after.find('<'), after.find('>')) {
        (Some(open), Some(close)) if open < close => after[open + 1..close].to_string(),
        _ => after.split(' ').next().unwrap_or_default().to_string(),
    }
}

/// CRLF-delimited reading and writing over a stream; the buffer is empty whenever a command
/// was answered, so the stream can be handed to TLS after STARTTLS.
struct Lines<S> {
    stream: S,
    buffer: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Lines<S> {
    fn new(stream: S) -> Self {
        Self {
            stream,
            buffer: Vec::new(),
        }
    }

    async fn send(&mut self, line: &str) -> std::io::Result<()> {
        self.stream.write_all(line.as_bytes()).await?;
        self.stream.write_all(b"\r\n").await?;
        self.stream.flush().await
    }

    /// The next line without its CRLF; `None` at end of stream.
    async fn raw_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..end + 2);
                return Ok(Some(line));
            }
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    async fn line(&mut self) -> std::io::Result<Option<String>> {
        Ok(self
            .raw_line()
            .await?
            .map(|l| String::from_utf8_lossy(&l).into_owned()))
    }

    /// The DATA section up to the lone `.` line, dot-unstuffed, lines joined with CRLF.
    async fn data(&mut self) -> std::io::Result<Vec<u8>> {
        let mut data = Vec::new();
        while let Some(line) = self.raw_line().await? {
            if line == b"." {
                return Ok(data);
            }
            let line = line.strip_prefix(b".".as_slice()).unwrap_or(&line);
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed during DATA",
        ))
    }
}
