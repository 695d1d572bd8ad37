//! The one outbound HTTP client every action uses: timeouts, a response size cap, no
//! automatic decompression (no decompression bombs), TLS verification on.

pub mod request;

use std::time::Duration;

/// Settings of the outbound HTTP client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Default time allowed for a whole request (actions may set their own).
    pub timeout: Duration,
    /// The largest response body read, in bytes.
    pub max_response_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct HttpError(String);

/// The shared outbound client (cheap to clone).
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) client: reqwest::Client,
    pub(crate) settings: HttpSettings,
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        // One crypto provider for the whole process; a second install is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(settings.max_redirects))
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .map_err(|e| HttpError(e.to_string()))?;
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }
}
