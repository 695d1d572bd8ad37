//! An IMAP session for the `email_inbox` trigger: connect (TLS, STARTTLS or plain text), log
//! in, and the few commands the trigger needs, each bounded by the configured timeout.
//!
//! Messages are addressed by UID and fetched with `BODY.PEEK[]`, so reading a message never
//! marks it seen; the trigger marks, moves or deletes it only after its run is durable.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::types::Fetch;
use futures::TryStreamExt;
use muster_engine::ActionError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::Security;
use super::tls::{TlsCheck, client_config, handshake};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ImapServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    /// The limit for connecting and for each command.
    pub timeout: Duration,
    pub tls: TlsCheck,
}

/// A message as fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The whole message, or only its header when it is larger than the size limit.
    pub raw: Vec<u8>,
    /// The message's size on the server.
    pub size: u64,
    /// Whether only the header was fetched.
    pub truncated: bool,
}

/// A logged-in session.
pub struct Imap {
    session: async_imap::Session<MailStream>,
    timeout: Duration,
    host: String,
    can_move: bool,
    can_uid_expunge: bool,
}

impl Imap {
    /// Connects and logs in.
    pub async fn connect(server: &ImapServer) -> Result<Self, ActionError> {
        let host = server.host.as_str();
        let timeout = server.timeout;
        let address = format!("{host}:{}", server.port);
        let tcp = within(timeout, &format!("connecting to {address}"), async {
            TcpStream::connect((host, server.port))
                .await
                .map_err(|e| ActionError::transient(format!("connecting to {address}: {e}")))
        })
        .await?;
        let stream = match server.security {
            Security::Tls => {
                let config = client_config(&server.tls)?;
                MailStream::Tls(Box::new(
                    within(timeout, "the TLS handshake", handshake(tcp, host, config)).await?,
                ))
            }
            Security::Starttls | Security::None => MailStream::Plain(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        let greeting = within(timeout, "waiting for the greeting", async {
            client.read_response().await.map_err(|e| io_error(host, e))
        })
        .await?;
        if greeting.is_none() {
            return Err(ActionError::transient(format!(
                "{host} closed the connection before greeting"
            )));
        }
        if server.security == Security::Starttls {
            within(timeout, "STARTTLS", async {
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| imap_error(host, "STARTTLS", e))
            })
            .await?;
            let MailStream::Plain(tcp) = client.into_inner() else {
                return Err(ActionError::permanent(
                    "STARTTLS on an encrypted connection",
                ));
            };
            let config = client_config(&server.tls)?;
            let tls = within(timeout, "the TLS handshake", handshake(tcp, host, config)).await?;
            client = async_imap::Client::new(MailStream::Tls(Box::new(tls)));
        }
        let login = within(timeout, "logging in", async {
            client
                .login(&server.username, &server.password)
                .await
                .map_err(|(e, _)| match e {
                    ImapError::No(text) | ImapError::Bad(text) => ActionError::permanent(format!(
                        "{host} refused the login of `{}`: {text}",
                        server.username
                    )),
                    other => imap_error(host, "logging in", other),
                })
        });
        let mut session = login.await?;
        let capabilities = within(timeout, "CAPABILITY", async {
            session
                .capabilities()
                .await
                .map_err(|e| imap_error(host, "CAPABILITY", e))
        })
        .await?;
        Ok(Self {
            can_move: capabilities.has_str("MOVE"),
            can_uid_expunge: capabilities.has_str("UIDPLUS"),
            session,
            timeout,
            host: host.to_string(),
        })
    }

    /// Selects a folder (read-write).
    pub async fn select(&mut self, folder: &str) -> Result<(), ActionError> {
        let what = format!("selecting folder `{folder}`");
        let (host, session) = (&self.host, &mut self.session);
        within(self.timeout, &what, async {
            session
                .select(folder)
                .await
                .map(|_| ())
                .map_err(|e| imap_error(host, &what, e))
        })
        .await
    }

    /// The UIDs matching `criteria` in the selected folder, lowest (oldest) first.
    pub async fn search(&mut self, criteria: &str) -> Result<Vec<u32>, ActionError> {
        let what = format!("UID SEARCH {criteria}");
        let (host, session) = (&self.host, &mut self.session);
        let found = within(self.timeout, &what, async {
            session
                .uid_search(criteria)
                .await
                .map_err(|e| imap_error(host, &what, e))
        })
        .await?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Fetches a message without marking it seen; only its header when it is larger than
    /// `max_bytes`. `None` when the message is gone (expunged by someone else).
    pub async fn fetch(
        &mut self,
        uid: u32,
        max_bytes: u64,
    ) -> Result<Option<Fetched>, ActionError> {
        let sized = self.fetch_items(uid, "(UID RFC822.SIZE)").await?;
        let Some(size) = sized.and_then(|f| f.size) else {
            return Ok(None);
        };
        let size = u64::from(size);
        let truncated = size > max_bytes;
        let query = if truncated {
            "(UID BODY.PEEK[HEADER])"
        } else {
            "(UID BODY.PEEK[])"
        };
        let Some(fetch) = self.fetch_items(uid, query).await? else {
            return Ok(None);
        };
        let raw = if truncated {
            fetch.header()
        } else {
            fetch.body()
        };
        Ok(raw.map(|raw| Fetched {
            raw: raw.to_vec(),
            size,
            truncated,
        }))
    }

    async fn fetch_items(&mut self, uid: u32, query: &str) -> Result<Option<Fetch>, ActionError> {
        let what = format!("UID FETCH {uid} {query}");
        let (host, session) = (&self.host, &mut self.session);
        let fetched: Vec<Fetch> = within(self.timeout, &what, async {
            let stream = session
                .uid_fetch(uid.to_string(), query)
                .await
                .map_err(|e| imap_error(host, &what, e))?;
            stream
                .try_collect()
                .await
                .map_err(|e| imap_error(host, &what, e))
        })
        .await?;
        Ok(fetched.into_iter().find(|f| f.uid == Some(uid)))
    }

    /// Adds `\Seen`.
    pub async fn mark_seen(&mut self, uid: u32) -> Result<(), ActionError> {
        self.add_flag(uid, "\\Seen").await
    }

    /// Moves the message to `folder` (MOVE, or COPY and delete when the server lacks MOVE).
    pub async fn move_to(&mut self, uid: u32, folder: &str) -> Result<(), ActionError> {
        if self.can_move {
            let what = format!("UID MOVE {uid} to `{folder}`");
            let (host, session) = (&self.host, &mut self.session);
            return within(self.timeout, &what, async {
                session
                    .uid_mv(uid.to_string(), folder)
                    .await
                    .map_err(|e| imap_error(host, &what, e))
            })
            .await;
        }
        let what = format!("UID COPY {uid} to `{folder}`");
        let (host, session) = (&self.host, &mut self.session);
        within(self.timeout, &what, async {
            session
                .uid_copy(uid.to_string(), folder)
                .await
                .map_err(|e| imap_error(host, &what, e))
        })
        .await?;
        self.delete(uid).await
    }

    /// Adds `\Deleted` and expunges the message (only it, when the server has UIDPLUS).
    pub async fn delete(&mut self, uid: u32) -> Result<(), ActionError> {
        self.add_flag(uid, "\\Deleted").await?;
        let what = format!("expunging UID {uid}");
        let (host, session) = (&self.host, &mut self.session);
        let uid_expunge = self.can_uid_expunge;
        within(self.timeout, &what, async {
            let result = if uid_expunge {
                let stream = session
                    .uid_expunge(uid.to_string())
                    .await
                    .map_err(|e| imap_error(host, &what, e))?;
                stream.try_collect::<Vec<_>>().await.map(|_| ())
            } else {
                let stream = session
                    .expunge()
                    .await
                    .map_err(|e| imap_error(host, &what, e))?;
                stream.try_collect::<Vec<_>>().await.map(|_| ())
            };
            result.map_err(|e| imap_error(host, &what, e))
        })
        .await
    }

    async fn add_flag(&mut self, uid: u32, flag: &str) -> Result<(), ActionError> {
        let what = format!("UID STORE {uid} +FLAGS ({flag})");
        let (host, session) = (&self.host, &mut self.session);
        within(self.timeout, &what, async {
            let stream = session
                .uid_store(uid.to_string(), format!("+FLAGS.SILENT ({flag})"))
                .await
                .map_err(|e| imap_error(host, &what, e))?;
            stream
                .try_collect::<Vec<_>>()
                .await
                .map(|_| ())
                .map_err(|e| imap_error(host, &what, e))
        })
        .await
    }

    /// Logs out, ignoring failures (the work is done).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}

/// Runs `step`, failing (transiently) when it takes longer than `timeout`.
async fn within<T>(
    timeout: Duration,
    what: &str,
    step: impl Future<Output = Result<T, ActionError>>,
) -> Result<T, ActionError> {
    tokio::time::timeout(timeout, step)
        .await
        .unwrap_or_else(|_| {
            Err(ActionError::transient(format!(
                "IMAP: {what} timed out after {}s",
                timeout.as_secs_f64()
            )))
        })
}

fn io_error(host: &str, e: impl Display) -> ActionError {
    ActionError::transient(format!("IMAP connection to {host} failed: {e}"))
}

/// A `NO` or `BAD` answer will not change by itself; a broken connection may.
fn imap_error(host: &str, what: &str, e: ImapError) -> ActionError {
    let message = format!("IMAP: {what} on {host} failed: {e}");
    match e {
        ImapError::No(_) | ImapError::Bad(_) | ImapError::Validate(_) => {
            ActionError::permanent(message)
        }
        _ => ActionError::transient(message),
    }
}

/// A connection before or after TLS.
#[derive(Debug)]
enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
