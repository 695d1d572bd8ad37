//! Settings of the HTTP server. Every field has a default except the API token, which the
//! process that starts the server must provide.

use std::time::Duration;

/// How the HTTP server behaves.
#[derive(Clone)]
pub struct ServerConfig {
    /// The bearer token every `/api/v1` request must present. An empty token rejects every
    /// request rather than accepting every one.
    pub api_token: String,
    /// The largest playbook document accepted by the API, in bytes.
    pub max_playbook_bytes: usize,
    /// The largest request body accepted on any route, in bytes. A webhook's own `max_body`
    /// applies below this ceiling.
    pub max_request_bytes: usize,
    /// The largest JSON payload accepted by the manual trigger route, in bytes.
    pub max_payload_bytes: usize,
    /// How long a webhook with `response: exit` waits for the run when the trigger does not
    /// set `response_timeout`.
    pub default_response_timeout: Duration,
}

impl ServerConfig {
    pub const DEFAULT_MAX_PLAYBOOK_BYTES: usize = 1024 * 1024;
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
    pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

    /// Defaults for everything but the token.
    pub fn new(api_token: impl Into<String>) -> Self {
        Self {
            api_token: api_token.into(),
            max_playbook_bytes: Self::DEFAULT_MAX_PLAYBOOK_BYTES,
            max_request_bytes: Self::DEFAULT_MAX_REQUEST_BYTES,
            max_payload_bytes: Self::DEFAULT_MAX_PAYLOAD_BYTES,
            default_response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("api_token", &"<redacted>")
            .field("max_playbook_bytes", &self.max_playbook_bytes)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_payload_bytes", &self.max_payload_bytes)
            .field("default_response_timeout", &self.default_response_timeout)
            .finish()
    }
}
