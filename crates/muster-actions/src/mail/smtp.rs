//! SMTP submission: the server settings (a playbook's `smtp` option or the operator's
//! `[smtp]` default), the lettre transport, and how failures are classified.
//!
//! Classification: connection failures and timeouts are transient, as are 4xx replies; 5xx
//! replies (a rejected recipient, a refused login) are permanent, as are TLS failures (a
//! certificate that does not verify will not start to) and problems on our side. No error
//! message carries the password: it is removed from any text before it is reported.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use muster_engine::ActionError;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Security;
use super::tls::TlsCheck;

/// The default time allowed for one message: connecting, the dialogue and the data.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP server to submit mail to.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpServer {
    pub host: String,
    /// Default: 465 with `tls`, 587 with `starttls`, 25 with `none`.
    pub port: Option<u16>,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A `basic` credential to log in with instead of `username` and `password`.
    pub credential: Option<String>,
    pub timeout: Duration,
    pub tls: TlsCheck,
}

/// The operator's default server and sender (`[smtp]` in `muster.toml`), used by `send_email`
/// actions without an `smtp` option. Registered as a service.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpDefaults {
    pub server: SmtpServer,
    /// The sender when an action sets no `from`.
    pub from: Option<String>,
}

/// The `smtp` option of `send_email`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpOptions {
    pub host: String,
    /// Default: 465 with `security: tls`, 587 with `starttls`, 25 with `none`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: Option<Security>,
    /// The login name for AUTH (with `password`).
    #[serde(default)]
    pub username: Option<String>,
    /// The password, normally a credential reference (`"{{ credentials.NAME.password }}"`).
    #[serde(default)]
    pub password: Option<String>,
    /// A `basic` credential to log in with, instead of `username` and `password`; it must
    /// allow `host`.
    #[serde(default)]
    pub credential: Option<String>,
    /// Time allowed for the whole submission (default: 30s).
    #[serde(default)]
    pub timeout: Option<Value>,
    /// Verify the server's certificate (default: true). `false` accepts any certificate.
    #[serde(default)]
    pub tls_verify: Option<bool>,
    /// A PEM file of CA certificates to trust besides the system's.
    #[serde(default)]
    pub ca_file: Option<String>,
}

impl SmtpOptions {
    pub fn into_server(self) -> Result<SmtpServer, ActionError> {
        let timeout = match &self.timeout {
            Some(value) => crate::options::duration("smtp.timeout", value)?,
            None => DEFAULT_TIMEOUT,
        };
        Ok(SmtpServer {
            host: self.host,
            port: self.port,
            security: self.security.unwrap_or(Security::Starttls),
            username: self.username,
            password: self.password,
            credential: self.credential,
            timeout,
            tls: TlsCheck::new(self.tls_verify, self.ca_file),
        })
    }
}

impl SmtpServer {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::None => 25,
        })
    }

    fn tls_parameters(&self) -> Result<TlsParameters, ActionError> {
        let mut builder = TlsParameters::builder(self.host.clone())
            .dangerous_accept_invalid_certs(!self.tls.verify);
        if self.tls.verify
            && let Some(path) = &self.tls.ca_file
        {
            let pem = std::fs::read(path).map_err(|e| {
                ActionError::permanent(format!("cannot read `ca_file` {path}: {e}"))
            })?;
            let certificate = Certificate::from_pem(&pem).map_err(|e| {
                ActionError::permanent(format!("`ca_file` {path} is not a PEM certificate: {e}"))
            })?;
            builder = builder.add_root_certificate(certificate);
        }
        builder
            .build_rustls()
            .map_err(|e| ActionError::permanent(format!("TLS set-up failed: {e}")))
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, ActionError> {
        let tls = match self.security {
            Security::None => Tls::None,
            Security::Starttls => Tls::Required(self.tls_parameters()?),
            Security::Tls => Tls::Wrapper(self.tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port())
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some(username) = &self.username {
            builder = builder
                .credentials(Credentials::new(
                    username.clone(),
                    self.password.clone().unwrap_or_default(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(builder.build())
    }

    /// Submits `message` to the envelope's recipients; returns the server's final reply.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<String, ActionError> {
        let transport = self.transport()?;
        // lettre's timeout applies per read and write; this bounds the whole submission.
        let sent = tokio::time::timeout(self.timeout, transport.send_raw(envelope, message)).await;
        match sent {
            Err(_) => Err(ActionError::transient(format!(
                "SMTP submission to {}:{} timed out after {}s",
                self.host,
                self.port(),
                self.timeout.as_secs_f64()
            ))),
            Ok(Err(err)) => Err(self.classify(&err)),
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
        }
    }

    /// The action error for a lettre failure, without the password.
    fn classify(&self, err: &lettre::transport::smtp::Error) -> ActionError {
        let mut text = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        if let Some(password) = self.password.as_deref().filter(|p| !p.is_empty()) {
            text = text.replace(password, "***");
        }
        let message = format!("SMTP {}:{}: {text}", self.host, self.port());
        let details = err
            .status()
            .map(|code| json!({"smtp_code": code.to_string()}));
        let error = if err.is_permanent() || err.is_tls() || err.is_client() || tls_failure(err) {
            ActionError::permanent(message)
        } else {
            // 4xx replies, timeouts, refused or broken connections.
            ActionError::transient(message)
        };
        match details {
            Some(details) => error.with_details(details),
            None => error,
        }
    }
}

/// Whether a TLS error (a certificate that does not verify, no common protocol version) is
/// somewhere in the chain: lettre reports a failed handshake on connect as a connection error.
fn tls_failure(err: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        source = cause.source();
    }
    false
}
