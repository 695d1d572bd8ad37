//! The one outbound HTTP client every action uses.
//!
//! - SSRF guard ([`guard`]): only http/https, only public addresses unless an operator allows
//!   a range or host (`[http] allow`), cloud-metadata endpoints refused unless named one by
//!   one; names are resolved once by [`resolver`] and the connection is pinned to the checked
//!   addresses; literal addresses and every redirect hop are checked before sending
//!   ([`send`], [`redirect`]). Proxies from the environment are ignored.
//! - Timeouts (connect, and total per request including redirects and the body), a response
//!   size cap counted on the decoded body (gzip, deflate and brotli are decoded as they
//!   arrive, so a decompression bomb stops at the cap), TLS verification on.
//! - Rate limits per host or credential ([`rate_limit`]) that make tasks wait, not fail.

mod addresses;
mod auth;
mod credentials;
pub mod errors;
pub(crate) mod exchange;
pub mod guard;
pub mod paginate;
pub mod rate_limit;
mod redirect;
pub mod request;
pub mod resolver;
pub mod response;
pub mod send;

use std::sync::Arc;
use std::time::Duration;

pub use guard::{AllowEntryError, AllowList, Guard, Refusal};
pub use rate_limit::{Rate, RateDecision, RateKey, RateLimits};
pub use send::{Fetched, OutboundRequest};

/// Settings of the outbound HTTP client.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Default time allowed for a whole request, redirects and body included (actions may
    /// set their own).
    pub timeout: Duration,
    /// The largest response body read, in bytes, counted after decompression.
    pub max_response_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Non-public ranges and hosts that requests may reach anyway.
    pub allow: AllowList,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            allow: AllowList::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct HttpError(String);

/// The shared outbound client (cheap to clone; clones share connections and rate limits).
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) client: reqwest::Client,
    pub(crate) settings: HttpSettings,
    pub(crate) guard: Arc<Guard>,
    rate_limits: Arc<RateLimits>,
    pub(crate) tokens: Arc<auth::TokenCache>,
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        // One crypto provider for the whole process; a second install is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let guard = Arc::new(Guard::new(settings.allow.clone()));
        let resolver = resolver::GuardedResolver::new(guard.clone(), settings.connect_timeout);
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            // Redirects are followed by `send`, which checks every hop.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(resolver))
            .user_agent(concat!("muster/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .map_err(|e| HttpError(e.to_string()))?;
        Ok(Self {
            client,
            settings,
            guard,
            rate_limits: Arc::new(RateLimits::default()),
            tokens: Arc::default(),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The SSRF policy requests go through.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The process's outbound rate-limit budgets.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.rate_limits
    }
}
